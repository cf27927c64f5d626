"""One trial of a local sweep: its folder, its command, its process, what it logged.

A trial is a normal run of the experiment in a subprocess, started with the command line
a W&B agent builds (``python -m experiments.<name> params.beta=0.0095 ...``, W&B's
``${args_no_hyphens}``) plus the machine's overrides, logging to TensorBoard under its own
experiments root ``trial-N/``. A trial cut short (its sweep process was killed) continues
as any run does, ``python -m experiments.<name> resume=<its run folder>``.

The trial's process is tied to the sweep process that started it: on Linux it receives
SIGTERM when that process dies (even by SIGKILL), so it saves ``last.ckpt`` after its
current step and ends, and the sweep that takes over continues it from there.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from dlconf.callbacks.sweep_trial import (
    HISTORY_FILE,
    METRIC_ENV,
    STATE_ENV,
    STOP_FILE,
    STOPPED_FILE,
    TRIAL_DIR_ENV,
    TRIAL_ENV,
)
from dlconf.runner.resume import DISPLAY_ONLY, is_device_override
from dlconf.runner.run_folder import RunFolder
from dlconf.runner.run_metrics import tensorboard_scalars

PR_SET_PDEATHSIG = 1


def trial_root(folder: Path, number: int) -> Path:
    """The experiments root of trial ``number``: its run folder is the one run under it."""
    return folder / f"trial-{number}"


def log_file(folder: Path, number: int) -> Path:
    return folder / f"trial-{number}.log"


def agent_overrides(values: Mapping[str, Any]) -> list[str]:
    """The overrides a W&B agent passes for ``values``: its ``${args_no_hyphens}``."""
    # W&B's own function, so a local trial's command line is the agent's, byte for byte.
    # (W&B types its argument as a bare `dict`, which pyright reads as partly unknown.)
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args  # pyright: ignore[reportUnknownVariableType]

    args = create_sweep_command_args({"args": {k: {"value": v} for k, v in values.items()}})
    return [str(arg) for arg in args["args_no_hyphens"]]


def new_command(
    module: str, values: Mapping[str, Any], overrides: Sequence[str], root: Path
) -> list[str]:
    """The command of a trial's first start."""
    return [
        sys.executable,
        "-m",
        module,
        *agent_overrides(values),
        *overrides,
        "logger=tensorboard",
        f"device.experiments_root={root}",
    ]


def resume_command(module: str, run: RunFolder, overrides: Sequence[str]) -> list[str]:
    """The command that continues the trial's run: what resume allows of the overrides."""
    kept = [o for o in overrides if is_device_override(o) or o.partition("=")[0] in DISPLAY_ONLY]
    return [sys.executable, "-m", module, f"resume={run.path}", *kept]


def the_run(root: Path) -> RunFolder | None:
    """The trial's run folder, once its run has made one."""
    runs = RunFolder.all_under(root)
    return runs[-1] if runs else None


def clear(root: Path) -> None:
    """Remove what a trial that must start over left (a run folder with no checkpoint)."""
    shutil.rmtree(root, ignore_errors=True)


def start(
    command: Sequence[str], root: Path, log: IO[str], env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """Start the trial's process, writing to ``log``, tied to this process's life."""
    root.mkdir(parents=True, exist_ok=True)
    (root / STOP_FILE).unlink(missing_ok=True)
    (root / STOPPED_FILE).unlink(missing_ok=True)
    log.write(" ".join(command) + "\n\n")
    log.flush()
    return subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )


def trial_env(number: int, root: Path, metric: str, state_file: Path) -> dict[str, str]:
    """What tells the run it is a trial: its number and folder, the metric, the sweep."""
    return {
        TRIAL_ENV: str(number),
        TRIAL_DIR_ENV: str(root),
        METRIC_ENV: metric,
        STATE_ENV: str(state_file),
    }


def _die_with_parent() -> None:
    # In the child, before exec: SIGTERM when the sweep process dies. A run stops on
    # SIGTERM after its current step, with last.ckpt saved.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_reason(root: Path) -> str | None:
    """Why the trial stopped before its budget (early termination), if it did."""
    try:
        return (root / STOPPED_FILE).read_text().strip() or "stopped"
    except OSError:
        return None


def reported_history(root: Path) -> list[list[float]]:
    """``[step, value]`` pairs the running trial has reported (one per step, in order)."""
    path = root / HISTORY_FILE
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    by_step: dict[int, float] = {}
    for line in lines:
        try:
            entry = json.loads(line)
            by_step[int(entry["step"])] = float(entry["value"])
        except (ValueError, KeyError, TypeError):
            continue  # a line being written
    return [[step, by_step[step]] for step in sorted(by_step)]


def logged_history(tensorboard_dir: Path, tag: str) -> list[list[float]]:
    """``[step, value]`` of ``tag`` in ``tensorboard_dir``'s events, one per step, in order."""
    if not tensorboard_dir.is_dir():
        return []
    by_step = dict(tensorboard_scalars(tensorboard_dir).get(tag, []))
    return [[step, by_step[step]] for step in sorted(by_step)]
