"""Early termination: W&B's hyperband, typed, and asked of W&B's own engine on this machine.

A sweep's ``early_terminate=Hyperband(min_iter=2, eta=3)`` is W&B's ``early_terminate``
section: the W&B server applies it to an agent's runs. In a local sweep each trial asks
the same engine (``stop_runs``), at each of its evaluations, whether to stop, from its own
history of the sweep's metric and every other trial's in the sweep's state file
(:func:`stop_now`, called by :mod:`dlconf.callbacks.sweep_trial`). One *iteration* is
one logged value of that metric, that is one evaluation of it: the first is at step 0
(the untrained model, the same for every trial with the same seed), so a useful
``min_iter`` is 2 or more.
"""

from __future__ import annotations

# The isinstance checks repeat the annotations on purpose: experiment code reaches them
# whether or not a type checker has read it.
# pyright: reportUnnecessaryIsInstance=false
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlconf.errors import ConfigError
from dlconf.sweeps.engine import engine


@dataclass(frozen=True)
class Hyperband:
    """W&B's hyperband stopping: give ``min_iter`` (the first band), or ``max_iter`` and ``s``.

    With ``min_iter`` the bands are ``min_iter * eta**k``; with ``max_iter`` and ``s`` they
    are ``max_iter / eta**k`` for ``k`` = 1..s. At each band a running trial whose metric
    is outside the best ``1/eta`` of all trials' values there is stopped.
    """

    min_iter: int | None = None
    max_iter: int | None = None
    s: int | None = None
    eta: float = 3
    strict: bool = True
    """W&B's stricter rule (its default): compare the value at the band, not the best so far."""

    def __post_init__(self) -> None:
        for name in ("min_iter", "max_iter", "s"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"Hyperband({name}={value!r}) takes a whole number >= 1")
        if not isinstance(self.eta, int | float) or not self.eta > 1:
            raise ConfigError(f"Hyperband(eta={self.eta!r}) takes a number > 1, e.g. eta=3")
        by_max = self.max_iter is not None or self.s is not None
        if self.min_iter is not None and by_max:
            raise ConfigError(
                "Hyperband takes min_iter, or max_iter with s, not both: "
                f"got min_iter={self.min_iter}, max_iter={self.max_iter}, s={self.s}"
            )
        if self.min_iter is None and (self.max_iter is None or self.s is None):
            raise ConfigError(
                "Hyperband needs min_iter (e.g. Hyperband(min_iter=2)) or both max_iter "
                f"and s (e.g. Hyperband(max_iter=27, s=2)); got max_iter={self.max_iter}, "
                f"s={self.s}"
            )

    def to_wandb(self) -> dict[str, Any]:
        """W&B's ``early_terminate`` section."""
        config: dict[str, Any] = {"type": "hyperband"}
        fields = {"min_iter": self.min_iter, "max_iter": self.max_iter, "s": self.s}
        config.update({key: value for key, value in fields.items() if value is not None})
        config.update(eta=self.eta, strict=self.strict)
        return config


@dataclass(frozen=True)
class Running:
    """A trial as early termination sees it: its number, whether it runs, its metric history."""

    number: int
    running: bool
    history: Sequence[float]


def to_stop(config: Mapping[str, Any], metric_name: str, trials: Sequence[Running]) -> list[int]:
    """The numbers of the running ``trials`` that W&B's engine says to stop now."""
    if "early_terminate" not in config:
        return []
    sweeps = engine()
    runs = [
        sweeps.SweepRun(
            name=str(trial.number),
            state=sweeps.RunState.running if trial.running else sweeps.RunState.finished,
            history=[{metric_name: value} for value in trial.history],
        )
        for trial in trials
    ]
    stopped = sweeps.stop_runs(dict(config), runs, validate=False)
    return sorted(int(run.name) for run in stopped)


def stop_now(state_path: Path, number: int, history: Sequence[float]) -> bool:
    """Whether trial ``number``, whose metric ``history`` has just grown, stops here.

    Asked by the trial itself at each of its evaluations (so it stops at the band, not some
    steps later), from the sweep's state file as it stands: the other trials' histories and
    the sweep config. A sweep without ``early_terminate`` never reads further than that.
    """
    try:
        data = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return False  # the sweep's folder went away: train on, as an ordinary run would
    config: dict[str, Any] = data.get("config", {})
    if "early_terminate" not in config:
        return False
    others = [
        Running(int(t["number"]), False, [value for _, value in t["history"]])
        for t in data.get("trials", [])
        if int(t["number"]) != number
    ]
    me = Running(number, True, list(history))
    return number in to_stop(config, str(config["metric"]["name"]), [*others, me])
