"""``python -m sweeps.<name>``: check a sweep against its experiment, then create or run it.

    python -m sweeps.mnist_vae                 # create the sweep on W&B, print the agent command
    python -m sweeps.mnist_vae --yaml          # print the sweep config for `wandb sweep`
    python -m sweeps.mnist_vae --local 10      # run 10 trials here, W&B's engine, no server
    python -m sweeps.mnist_vae --local 10 data=synthetic device.num_workers=4

The check comes first in every mode: a parameter the experiment lacks, a value its field
refuses or a metric it does not log ends the program with one line per problem and exit
code 2, before anything is created.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from dlconf.errors import ConfigError, DlconfError, exit_with
from dlconf.sweeps.check import check_sweep
from dlconf.sweeps.definition import Sweep
from dlconf.sweeps.local import Trial, results_table, run_local

OFFLINE_MODES = ("offline", "dryrun", "disabled")
DEFAULT_BASE_URL = "https://api.wandb.ai"
AGENT_SCRIPT = "sweeps/slurm/agent.sbatch"


class SweepCreationError(DlconfError):
    """The sweep could not be created on the W&B server (offline, no login, refused)."""


class SweepRunError(DlconfError):
    """No trial of a local sweep finished with its metric."""


def main(sweep: Sweep, argv: Sequence[str] | None = None) -> None:
    """Run ``sweep``'s command line (``sys.argv`` when ``argv`` is None)."""
    args = _parser(sweep).parse_args(argv)
    overrides: list[str] = list(args.overrides)
    try:
        if overrides and args.local is None:
            raise ConfigError(
                f"overrides ({overrides[0]!r}...) apply to --local trials only; an agent's "
                "runs take the machine's settings from DEVICE_NAME"
            )
        cfg = check_sweep(sweep, overrides)
        if args.yaml:
            sys.stdout.write(sweep.to_yaml())
        elif args.local is not None:
            _run_local(sweep, args.local, Path(str(cfg.device.experiments_root)), overrides)
        else:
            path = create_sweep(sweep, entity=args.entity, project=args.project)
            sys.stdout.write(agent_instructions(path))
    except DlconfError as error:
        exit_with(error)


def create_sweep(sweep: Sweep, entity: str | None, project: str | None) -> str:
    """Create ``sweep`` on the W&B server; returns ``[entity/]project/id`` for ``wandb agent``."""
    from dlconf.loggers.wandb import has_credentials

    mode = os.environ.get("WANDB_MODE", "")
    if mode in OFFLINE_MODES:
        raise SweepCreationError(
            f"cannot create a W&B sweep with WANDB_MODE={mode}: it needs the W&B server. "
            "Use --yaml to print it for `wandb sweep`, or --local N to run N trials here"
        )
    if not has_credentials(os.environ):
        raise SweepCreationError(
            "cannot create a W&B sweep: no W&B credentials (WANDB_API_KEY or `wandb login`). "
            "Use --yaml to print it for `wandb sweep`, or --local N to run N trials here"
        )
    unreachable = _unreachable(os.environ.get("WANDB_BASE_URL") or DEFAULT_BASE_URL)
    if unreachable:
        # Checked first because W&B retries a dead network for minutes before it gives up.
        raise SweepCreationError(
            f"cannot create a W&B sweep: {unreachable}. "
            "Use --yaml to print it for `wandb sweep`, or --local N to run N trials here"
        )
    import wandb

    # W&B types the config as a bare `dict`, which pyright reads as partly unknown.
    create: Callable[..., str] = wandb.sweep  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    entity = entity or sweep.entity
    project = project or sweep.wandb_project
    config = {**sweep.to_wandb(), "project": project}
    try:
        sweep_id = create(config, entity=entity, project=project)
    except Exception as error:  # W&B raises many kinds: network, auth, a refused config
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise SweepCreationError(
            f"W&B could not create the sweep: {first}. "
            "Use --yaml to print it for `wandb sweep`, or --local N to run N trials here"
        ) from None
    return "/".join(part for part in (entity, project, sweep_id) if part)


def _unreachable(base_url: str, timeout: float = 5.0) -> str | None:
    """Why the W&B server at ``base_url`` cannot be reached, or None when it can."""
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        return f"cannot reach {host}:{port} ({error.strerror or error})"
    return None


def agent_instructions(path: str) -> str:
    """What to run next for a sweep created at ``path``."""
    return (
        f"sweep created: {path}\n"
        f"start an agent here:    wandb agent {path}\n"
        f"or 4 on SLURM:          sbatch --array=1-4 "
        f"--export=ALL,DEVICE_NAME=$DEVICE_NAME,SWEEP={path} {AGENT_SCRIPT}\n"
    )


def _run_local(sweep: Sweep, count: int, experiments_root: Path, overrides: list[str]) -> None:
    def report(trial: Trial) -> None:
        metric = "failed" if not trial.succeeded else f"{trial.metric:.6g}"
        values = " ".join(p.override(trial.values.get(p.key)) for p in sweep.parameters)
        sys.stdout.write(
            f"trial {trial.number}/{count}: {sweep.metric.name}={metric} ({trial.seconds:.0f} s) "
            f"{values}\n"
        )
        sys.stdout.flush()

    local = run_local(sweep, count, experiments_root, overrides, on_trial=report)
    sys.stdout.write(f"\n{results_table(sweep, local.trials)}\n\nruns and logs: {local.folder}\n")
    if not any(trial.succeeded for trial in local.trials):
        raise SweepRunError(f"every trial failed: see the trial-N.log files in {local.folder}")


def _parser(sweep: Sweep) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m sweeps.{sweep.sweep_name}",
        description=f"Check the {sweep.sweep_name} sweep against {sweep.program_module}, "
        "then create it on W&B (default), print it (--yaml) or run it here (--local N).",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--yaml", action="store_true", help="print the sweep config for `wandb sweep`"
    )
    mode.add_argument(
        "--local", type=int, metavar="N", help="run N trials on this machine, no W&B server"
    )
    parser.add_argument("--entity", help="W&B user or team (default: the sweep's, or W&B's)")
    parser.add_argument("--project", help="W&B project (default: the experiment's run.project)")
    parser.add_argument(
        "overrides", nargs="*", help="--local only: overrides for every trial, e.g. data=synthetic"
    )
    return parser
