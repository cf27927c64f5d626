"""W&B's sweep engine (the ``sweeps`` package on PyPI), loaded as ``wandb_sweeps_engine``.

The engine is what W&B's own server runs to validate a sweep config and to propose the next
run (grid, random, bayes); it works offline. Its import name, ``sweeps``, is also the name of
this project's top-level folder of sweep definitions (``python -m sweeps.mnist_vae``), which
wins on ``sys.path`` whenever Python starts in the repository root. Rather than play games
with ``sys.path`` order (which would hide one or the other), the installed distribution's
files are loaded under another module name. Its modules import each other relatively, so
they load as submodules of that name and never look for ``sweeps``. ``wandb`` itself does
not vendor the engine: ``wandb.controller`` imports ``sweeps`` by name, which is why dlconf
never uses it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

ENGINE_DISTRIBUTION = "sweeps"
"""The PyPI distribution holding W&B's sweep engine."""
ENGINE_MODULE = "wandb_sweeps_engine"
"""The name the engine is loaded under, clear of this project's ``sweeps`` folder."""


@functools.cache
def engine() -> ModuleType:
    """The installed W&B sweep engine, loaded once under :data:`ENGINE_MODULE`."""
    if ENGINE_MODULE in sys.modules:
        return sys.modules[ENGINE_MODULE]
    try:
        distribution = importlib.metadata.distribution(ENGINE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ImportError(
            "W&B's sweep engine is not installed: pip install 'sweeps>=0.2'"
        ) from None
    init = Path(str(distribution.locate_file(f"{ENGINE_DISTRIBUTION}/__init__.py")))
    spec = importlib.util.spec_from_file_location(
        ENGINE_MODULE, init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load W&B's sweep engine from {init}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[ENGINE_MODULE] = module
    # Its pydantic models still use a pydantic-1 config key, which pydantic 2 warns about
    # (and honours under the new name); the warning says nothing a user can act on.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Valid config keys have changed in V2")
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[ENGINE_MODULE]
            raise
    return module


def schema_violations(config: Mapping[str, Any]) -> list[str]:
    """What W&B's validator says is wrong with the sweep ``config`` (empty when valid)."""
    violations: list[str] = engine().schema_violations_from_proposed_config(dict(config))
    return [str(v) for v in violations]


State = Literal["finished", "failed", "running"]


@dataclass(frozen=True)
class Finished:
    """A trial as the engine needs it: its values, its state, and its metric if it has one.

    Running trials count too: grid search must not propose their values again, and bayes
    search treats them as pending."""

    values: Mapping[str, Any]
    """The parameter values it ran with, by key (``params.beta``)."""
    metric: float | None
    state: State = "finished"


def next_values(
    config: Mapping[str, Any], metric_name: str, finished: Sequence[Finished]
) -> dict[str, Any] | None:
    """The engine's next parameter values after ``finished``; None when a grid is done."""
    sweeps = engine()
    states = {
        "finished": sweeps.RunState.finished,
        "failed": sweeps.RunState.failed,
        "running": sweeps.RunState.running,
    }
    runs = [
        sweeps.SweepRun(
            name=f"trial-{number}",
            state=states[trial.state],
            config={key: {"value": value} for key, value in trial.values.items()},
            summary_metrics={} if trial.metric is None else {metric_name: trial.metric},
        )
        for number, trial in enumerate(finished, start=1)
    ]
    proposal = sweeps.next_run(dict(config), runs, validate=True)
    if proposal is None:
        return None
    return {key: _plain(entry["value"]) for key, entry in proposal.config.items()}


def _plain(value: Any) -> Any:
    """A Python value for a numpy scalar the engine proposes (``np.float64(0.01)``)."""
    import numpy as np  # the engine's own dependency, already imported by it

    return value.item() if isinstance(value, np.generic) else value
