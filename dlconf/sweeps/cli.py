"""``python -m sweeps.<name>``: check a sweep against its experiment, then create or run it.

    python -m sweeps.mnist_vae                 # create the sweep on W&B, print the agent command
    python -m sweeps.mnist_vae --yaml          # print the sweep config for `wandb sweep`
    python -m sweeps.mnist_vae --local 10      # run 10 trials here, W&B's engine, no server
    python -m sweeps.mnist_vae --local 10 data=synthetic device.num_workers=4
    python -m sweeps.mnist_vae --local 10 --jobs 2     # two trials at a time
    python -m sweeps.mnist_vae --resume last           # continue the newest local sweep

The check comes first in every mode: a parameter the experiment lacks, a value its field
refuses or a metric it does not log ends the program with one line per problem and exit
code 2, before anything is created.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from dlconf.durations import parse_duration
from dlconf.errors import ConfigError, DlconfError, exit_with
from dlconf.sweeps.check import check_sweep
from dlconf.sweeps.definition import Sweep
from dlconf.sweeps.local import LocalRunner, latest_folder, new_folder, open_sweep
from dlconf.sweeps.results import results_table
from dlconf.sweeps.state import StateFile, SweepState, TrialState

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
        local = args.local is not None or args.resume is not None
        if overrides and not local:
            raise ConfigError(
                f"overrides ({overrides[0]!r}...) apply to --local trials only; an agent's "
                "runs take the machine's settings from DEVICE_NAME"
            )
        if args.yaml and args.resume is not None:
            raise ConfigError("--yaml prints the sweep config; it does not go with --resume")
        if not local and (
            args.jobs != 1 or args.one_trial or args.folder or args.engine_seed is not None
        ):
            raise ConfigError(
                "--jobs, --one-trial, --folder and --engine-seed apply to --local or --resume only"
            )
        if args.jobs < 1:
            raise ConfigError(f"--jobs {args.jobs}: run at least 1 trial at a time")
        if args.local is not None and args.local < 1:
            raise ConfigError(f"--local {args.local}: run at least 1 trial")
        if args.yaml:
            check_sweep(sweep, overrides)
            sys.stdout.write(sweep.to_yaml())
        elif local:
            _local(sweep, args, overrides)
        else:
            check_sweep(sweep, overrides)
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


def with_train_for(sweep: Sweep, overrides: Sequence[str]) -> Sweep:
    """``sweep`` training for the ``train_for=...`` among ``overrides``, if there is one.

    So the recorded sweep config says what the trials ran, and a trial's command holds one
    ``train_for``: the sweep's constant, now the machine's value.
    """
    given = [o.partition("=")[2] for o in overrides if o.partition("=")[0] == "train_for"]
    if not given:
        return sweep
    text = given[-1].strip().strip("'\"")
    unit = text.split()[-1].rstrip("s") if text.split() else ""
    duration = parse_duration(text, counters=(unit,), key="train_for")
    return dataclasses.replace(sweep, train_for=duration)


def _local(sweep: Sweep, args: argparse.Namespace, overrides: list[str]) -> None:
    folder: Path | None = None
    if args.resume is not None and args.resume != "last":
        folder = Path(args.resume).expanduser()
        overrides = overrides or StateFile(folder).read().overrides
    sweep = with_train_for(sweep, overrides)
    cfg = check_sweep(sweep, overrides)
    root = Path(str(cfg.device.experiments_root))
    if args.resume == "last":
        folder = latest_folder(root, sweep.sweep_name)
        stored = StateFile(folder).read().overrides
        if not overrides and stored:
            overrides = stored
            sweep = with_train_for(sweep, overrides)
            check_sweep(sweep, overrides)
    if folder is None:
        folder = (
            Path(args.folder).expanduser() if args.folder else new_folder(root, sweep.sweep_name)
        )
    config, yaml_text = sweep.to_wandb(), sweep.to_yaml()
    module = sweep.program_module
    state = open_sweep(folder, config, yaml_text, module, args.local, overrides, args.engine_seed)
    total = state.count

    def report(trial: TrialState, state: SweepState) -> None:
        metric = f"{trial.metric:.6g}" if trial.succeeded else trial.status
        values = " ".join(p.override(trial.values.get(p.key)) for p in sweep.parameters)
        stopped = " (stopped early)" if trial.status == "stopped" else ""
        sys.stdout.write(
            f"trial {trial.number}/{total}: {sweep.metric.name}={metric} ({trial.seconds:.0f} s) "
            f"{values}{stopped}\n"
        )
        sys.stdout.flush()

    runner = LocalRunner(
        folder, jobs=args.jobs, max_trials=1 if args.one_trial else None, on_trial=report
    )
    try:
        state = runner.run()
    except KeyboardInterrupt:
        sys.stderr.write(
            f"interrupted: the trials saved their state; continue with "
            f"{_this_command(sweep)} --resume {folder}\n"
        )
        sys.exit(130)
    sys.stdout.write(f"\n{results_table(state)}\n\nruns, logs and results: {folder}\n")
    if (
        state.trials
        and all(t.done for t in state.trials)
        and not any(t.succeeded for t in state.trials)
    ):
        raise SweepRunError(f"every trial failed: see the trial-N.log files in {folder}")


def _this_command(sweep: Sweep) -> str:
    """``python -m <the sweep's module>``, as this process was started."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None) or f"sweeps.{sweep.sweep_name}"
    return f"python -m {name}"


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
    parser.add_argument(
        "--resume",
        metavar="FOLDER",
        help="continue the local sweep in FOLDER ('last': the newest); with --local N, "
        "make it N trials in all",
    )
    parser.add_argument(
        "--folder", metavar="DIR", help="the local sweep's folder: made, or continued if it exists"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, metavar="K", help="run K trials at once (one GPU each)"
    )
    parser.add_argument(
        "--engine-seed",
        type=int,
        metavar="S",
        help="seed of a new local sweep's random and bayes proposals (default: drawn, recorded)",
    )
    parser.add_argument(
        "--one-trial",
        action="store_true",
        help="take on one trial and exit (a SLURM array task: sweeps/slurm/local_sweep.sbatch)",
    )
    parser.add_argument("--entity", help="W&B user or team (default: the sweep's, or W&B's)")
    parser.add_argument("--project", help="W&B project (default: the experiment's run.project)")
    parser.add_argument(
        "overrides", nargs="*", help="--local only: overrides for every trial, e.g. data=synthetic"
    )
    return parser
