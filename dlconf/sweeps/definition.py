"""A W&B sweep as typed Python: the experiment, the method, the metric, the parameters.

Parameters are named through the experiment's own typed links, so a misspelt ``p.bta`` is a
type error, and bound to a distribution in two steps so the checker compares the field's
type with what the distribution samples::

    p = link(Params)
    sweep = Sweep(
        experiment=experiment,
        method="bayes",
        metric=elbo.on(VALID),               # the metric comes from the experiment's evaluation
        parameters=[
            vary(p.beta).over(LogUniform(min=-20, max=2)),
            vary(p.batch_size).over(Values([64, 128])),   # Uniform(...) here: a type error
        ],
        train_for=epochs(10),
    )

:meth:`Sweep.to_wandb` is the equivalent W&B sweep config: its command is the one an agent
runs, ``python -m experiments.<name> params.beta=... params.batch_size=...``.
"""

from __future__ import annotations

# The isinstance checks below repeat what the annotations say, on purpose: experiment
# code reaches them whether or not a type checker has read it.
# pyright: reportUnnecessaryIsInstance=false
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from omegaconf import OmegaConf

from dlconf.durations import Duration
from dlconf.errors import ConfigError
from dlconf.experiment import Experiment, Metric
from dlconf.sweeps.distributions import Constant, Distribution
from dlconf.sweeps.early_stop import Hyperband

F = TypeVar("F")

EXPERIMENTS_PACKAGE = "experiments"
"""Where ``python -m experiments.<experiment.name>`` finds an experiment's module."""

Method = Literal["grid", "random", "bayes"]

_LINK = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


@dataclass(frozen=True)
class Parameter:
    """One swept key (``params.beta``, as the command line writes it) and its distribution.

    Written by :func:`vary`, which takes the typed link instead of the string.
    """

    key: str
    distribution: Distribution[Any]

    def override(self, value: object) -> str:
        """The override an agent passes for ``value``: W&B writes ``f"{key}={value}"``."""
        return f"{self.key}={value}"


class Vary(Generic[F]):
    """A field of type ``F`` waiting for its distribution: ``vary(p.beta).over(...)``."""

    def __init__(self, link: F) -> None:
        self._key = key_of(link)

    def over(self, distribution: Distribution[F]) -> Parameter:
        """Sweep the field over ``distribution``; it must sample ``F`` values."""
        return Parameter(self._key, distribution)


def vary(link: F) -> Vary[F]:
    """Start a sweep parameter from a typed link such as ``p.beta`` or ``e.elbo.n_samples``.

    Two steps (``vary(p.beta).over(...)``) because the field's type must be fixed before the
    distribution is checked against it: a one-call ``f(p.batch_size, Uniform(...))`` would
    let the checker widen ``int`` to ``float`` and accept it.
    """
    return Vary(link)


def key_of(link: object) -> str:
    """The dotted key of a typed link: ``"${params.beta}"`` -> ``"params.beta"``."""
    match = _LINK.fullmatch(link) if isinstance(link, str) else None
    if match is None:
        raise ConfigError(
            f"vary() takes a typed link such as p.beta (p = link(Params)), got {link!r}"
        )
    return match.group(1)


@dataclass(frozen=True)
class Sweep:
    """A W&B sweep over one experiment; ``python -m sweeps.<name>`` checks and creates it."""

    experiment: Experiment[Any, Any]
    method: Method
    """W&B's search: ``grid`` (every combination of listed values), ``random``, ``bayes``."""
    metric: Metric
    """The metric to optimize, from one of the experiment's evaluations: ``elbo.on(VALID)``."""
    parameters: Sequence[Parameter]
    train_for: Duration | None = None
    """How long every run trains (``epochs(10)``); None keeps the experiment's own."""
    name: str | None = None
    """The sweep's name in W&B; defaults to the experiment's name."""
    description: str | None = None
    project: str | None = None
    """The W&B project; defaults to the experiment's ``run.project``, where its runs log."""
    entity: str | None = None
    """The W&B user or team; None for W&B's default."""
    run_cap: int | None = None
    """Most runs the sweep starts (W&B's ``run_cap``), locally too; None for no limit."""
    early_terminate: Hyperband | None = None
    """Stop trials that fall behind (W&B's ``early_terminate``): ``Hyperband(min_iter=2)``."""
    module: str | None = None
    """The module an agent runs; defaults to ``experiments.<experiment.name>``."""

    def __post_init__(self) -> None:
        if not isinstance(self.metric, Metric):
            raise ConfigError(
                f"Sweep(metric={self.metric!r}) takes a metric from one of the experiment's "
                "evaluations, e.g. metric=elbo.on(VALID)"
            )
        if self.train_for is not None and not isinstance(self.train_for, Duration):
            raise ConfigError(
                f"Sweep(train_for={self.train_for!r}) takes a duration such as epochs(10)"
            )
        if self.run_cap is not None and (
            not isinstance(self.run_cap, int) or isinstance(self.run_cap, bool) or self.run_cap < 1
        ):
            raise ConfigError(f"Sweep(run_cap={self.run_cap!r}) takes a whole number >= 1")
        if self.early_terminate is not None and not isinstance(self.early_terminate, Hyperband):
            raise ConfigError(
                f"Sweep(early_terminate={self.early_terminate!r}) takes Hyperband(min_iter=...) "
                "or Hyperband(max_iter=..., s=...)"
            )
        for parameter in self.parameters:
            if not isinstance(parameter, Parameter):
                raise ConfigError(
                    f"sweep parameter {parameter!r} has no distribution: write "
                    "vary(p.beta).over(LogUniform(min=-5, max=0)) (or Values([...]))"
                )
        keys = tuple(parameter.key for parameter in self.all_parameters)
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ConfigError(f"sweep {self.sweep_name!r} sets {', '.join(repeated)} twice")

    @property
    def all_parameters(self) -> tuple[Parameter, ...]:
        """The swept parameters, and ``train_for`` as a constant when it is set."""
        fixed = (
            ()
            if self.train_for is None
            else (Parameter("train_for", Constant(str(self.train_for))),)
        )
        return (*self.parameters, *fixed)

    @property
    def sweep_name(self) -> str:
        return self.name or self.experiment.name

    @property
    def program_module(self) -> str:
        return self.module or f"{EXPERIMENTS_PACKAGE}.{self.experiment.name}"

    @property
    def wandb_project(self) -> str:
        return self.project or self.experiment.run.project

    def command(self) -> list[str]:
        """W&B's ``command``: how an agent starts a run, with the values as overrides."""
        return ["${env}", "${interpreter}", "-m", self.program_module, "${args_no_hyphens}"]

    def to_wandb(self) -> dict[str, Any]:
        """The W&B sweep config (what ``wandb sweep`` reads from YAML)."""
        config: dict[str, Any] = {
            "name": self.sweep_name,
            "project": self.wandb_project,
            # W&B records `program` with the sweep (and finds the code to save by it); the
            # command runs the module, so the experiments package imports as it does here.
            "program": self.program_module.replace(".", "/") + ".py",
            "command": self.command(),
            "method": self.method,
            "metric": {"name": self.metric.name, "goal": self.metric.goal},
            "parameters": {p.key: p.distribution.to_wandb() for p in self.all_parameters},
        }
        optional = {"description": self.description, "entity": self.entity, "run_cap": self.run_cap}
        config.update({key: value for key, value in optional.items() if value is not None})
        if self.early_terminate is not None:
            config["early_terminate"] = self.early_terminate.to_wandb()
        return config

    def to_yaml(self) -> str:
        """:meth:`to_wandb` as YAML for ``wandb sweep FILE``."""
        return OmegaConf.to_yaml(self.to_wandb())  # W&B's ${...} macros stay as written
