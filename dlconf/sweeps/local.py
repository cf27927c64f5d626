"""A sweep on this machine, no W&B server: W&B's own engine proposes, the experiment runs.

Each trial is a normal run of the experiment in a subprocess, started with the command line
an agent builds (``python -m experiments.<name> params.beta=0.0095 ...``, W&B's
``${args_no_hyphens}``) plus the researcher's own overrides for this machine. Its metric is
read back from the run's TensorBoard events (local trials log to TensorBoard for that), and
the engine proposes the next trial from every finished one, as the server would.

Everything goes under ``<device.experiments_root>/local_sweeps/<sweep>/<date>_<time>/``:
``sweep.yaml``, one ``trial-N/`` experiments root per trial, its ``trial-N.log`` (the
run's output) and ``results.txt``, the table of trials.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from dlconf.errors import ConfigError
from dlconf.runner.run_folder import RunFolder
from dlconf.sweeps.definition import Sweep
from dlconf.sweeps.engine import Finished, next_values

LOCAL_SWEEPS_DIR = "local_sweeps"


@dataclass(frozen=True)
class Trial:
    """One finished trial: what it ran with, how it ended, the metric it reached."""

    number: int
    values: Mapping[str, Any]
    exit_code: int
    metric: float | None
    seconds: float
    run_dir: Path | None

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.metric is not None


@dataclass(frozen=True)
class LocalSweep:
    """A local sweep's folder (``sweep.yaml``, ``trial-N/``, logs, ``results.txt``) and trials."""

    folder: Path
    trials: list[Trial]


def agent_overrides(values: Mapping[str, Any]) -> list[str]:
    """The overrides a W&B agent passes for ``values``: its ``${args_no_hyphens}``."""
    # W&B's own function, so a local trial's command line is the agent's, byte for byte.
    # (W&B types its argument as a bare `dict`, which pyright reads as partly unknown.)
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args  # pyright: ignore[reportUnknownVariableType]

    args = create_sweep_command_args({"args": {k: {"value": v} for k, v in values.items()}})
    return [str(arg) for arg in args["args_no_hyphens"]]


def run_local(
    sweep: Sweep,
    count: int,
    experiments_root: Path,
    overrides: Sequence[str] = (),
    on_trial: Callable[[Trial], None] | None = None,
) -> LocalSweep:
    """Run up to ``count`` trials of ``sweep``, fewer when a grid runs out.

    ``overrides`` are the machine's, added to every trial after the sampled values
    (``data=synthetic``, ``device.data_root=...``); ``experiments_root`` holds the sweep.
    """
    if count < 1:
        raise ConfigError(f"--local {count}: run at least 1 trial")
    chosen = [o for o in overrides if o.startswith("logger=") and o != "logger=tensorboard"]
    if chosen:
        raise ConfigError(
            f"a local sweep reads each trial's metric from TensorBoard: drop {chosen[0]!r}"
        )
    folder = RunFolder.create(experiments_root, LOCAL_SWEEPS_DIR, sweep.sweep_name).path
    (folder / "sweep.yaml").write_text(sweep.to_yaml())
    config = sweep.to_wandb()
    trials: list[Trial] = []
    for number in range(1, count + 1):
        values = next_values(config, sweep.metric.name, [_finished(t) for t in trials])
        if values is None:
            break
        trial = _run_trial(sweep, number, values, folder, overrides)
        trials.append(trial)
        if on_trial is not None:
            on_trial(trial)
    (folder / "results.txt").write_text(results_table(sweep, trials) + "\n")
    return LocalSweep(folder, trials)


def _run_trial(
    sweep: Sweep, number: int, values: Mapping[str, Any], folder: Path, overrides: Sequence[str]
) -> Trial:
    trial_root = folder / f"trial-{number}"
    command = [
        sys.executable,
        "-m",
        sweep.program_module,
        *agent_overrides(values),
        *overrides,
        "logger=tensorboard",
        f"device.experiments_root={trial_root}",
    ]
    start = time.monotonic()
    with (folder / f"trial-{number}.log").open("w") as log:
        log.write(" ".join(command) + "\n\n")
        log.flush()
        exit_code = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, check=False
        ).returncode
    run = next(iter(RunFolder.all_under(trial_root)), None)
    metric = None if run is None else last_scalar(run.tensorboard_dir, sweep.metric.name)
    return Trial(
        number=number,
        values=dict(values),
        exit_code=exit_code,
        metric=metric,
        seconds=time.monotonic() - start,
        run_dir=None if run is None else run.path,
    )


class _Event(Protocol):
    step: int
    value: float


class _Accumulator(Protocol):
    def Reload(self) -> object: ...  # TensorBoard's names

    def Tags(self) -> dict[str, list[str]]: ...

    def Scalars(self, tag: str) -> list[_Event]: ...


def last_scalar(tensorboard_dir: Path, tag: str) -> float | None:
    """The last value logged under ``tag`` in ``tensorboard_dir``'s events, if any."""
    # Imported here: reading events is only needed once a trial has finished.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = cast(
        _Accumulator, EventAccumulator(str(tensorboard_dir), size_guidance={"scalars": 0})
    )
    events.Reload()
    if tag not in events.Tags().get("scalars", []):
        return None
    scalars = events.Scalars(tag)
    return float(max(scalars, key=lambda event: event.step).value) if scalars else None


def results_table(sweep: Sweep, trials: Sequence[Trial]) -> str:
    """The trials as a text table, best first by the sweep's metric; failed ones last."""
    maximize = sweep.metric.goal == "maximize"
    done = sorted(
        (t for t in trials if t.succeeded),
        key=lambda t: cast(float, t.metric),
        reverse=maximize,
    )
    ranked = [*done, *(t for t in trials if not t.succeeded)]
    keys = [p.key for p in sweep.parameters]
    header = ["rank", "trial", sweep.metric.name, *keys, "seconds"]
    rows = [
        [
            str(rank) if trial.succeeded else "-",
            str(trial.number),
            _format(trial.metric) if trial.succeeded else f"failed (exit {trial.exit_code})",
            *(_format(trial.values.get(key)) for key in keys),
            f"{trial.seconds:.0f}",
        ]
        for rank, trial in enumerate(ranked, start=1)
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _finished(trial: Trial) -> Finished:
    return Finished(trial.values, trial.metric, "finished" if trial.succeeded else "failed")


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
