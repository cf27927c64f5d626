"""The experiment: everything the seed's experiment YAML said, as one typed object.

An experiment module builds one :class:`Experiment` from typed component configs (see
:mod:`dlconf.configs`) and hands it to :func:`dlconf.main`. Fields mirror the seed's keys:
``params`` and ``eval_params`` hold every hyper-parameter, ``data`` the selectable data sets,
``optimization`` the procedure (which receives model and data), ``evaluation`` what to log
and how often, ``train_for`` when to stop, ``run`` the project and run names.

Metric names are not written as strings: an evaluation names its own metrics, so
``Checkpoint(monitor=elbo.on(VALID))`` and a sweep's metric cannot name what is not logged::

    elbo = Evaluate("ELBO", conf(ELBOEvaluation)(n_samples=e.elbo.n_samples), every=e.elbo.every)
    checkpoint = Checkpoint(monitor=elbo.on(VALID))        # ELBO/Validation, maximized
"""

from __future__ import annotations

# The isinstance checks below repeat what the annotations say, on purpose: experiment
# code reaches them whether or not a type checker has read it.
# pyright: reportUnnecessaryIsInstance=false
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal

from hydra_zen import get_target, is_partial_builds
from lightning.pytorch import Callback, Trainer
from typing_extensions import TypeVar

from dlconf.configs import link
from dlconf.data import DataSplits, Split
from dlconf.durations import CheckpointEvery, CounterDuration, Duration, minutes
from dlconf.errors import ConfigError, close_matches
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.per_split import PerSplitMean
from dlconf.evaluation.support import split_label
from dlconf.optimization.base import Optimization
from dlconf.settings import EvalSettings, HyperParams, NoEvalSettings
from dlconf.strict_types import is_interpolation

Goal = Literal["maximize", "minimize"]


class Metric(str):
    """A scalar an evaluation logs (``"ELBO/Validation"``), and whether larger is better.

    Made by the evaluation that logs it (:meth:`Evaluate.on`), never spelt by hand.
    """

    goal: Goal
    evaluation: str | None
    """The name of the evaluation that logs it; None for a training loss."""

    def __new__(cls, name: str, goal: Goal, evaluation: str | None) -> Metric:
        metric = super().__new__(cls, name)
        metric.goal = goal
        metric.evaluation = evaluation
        return metric

    def __getnewargs__(self) -> tuple[str, Goal, str | None]:  # type: ignore[override]
        return (str(self), self.goal, self.evaluation)

    @property
    def name(self) -> str:
        """The logged name, as a plain string."""
        return str(self)

    @property
    def mode(self) -> Literal["max", "min"]:
        """Lightning's word for the goal (``ModelCheckpoint(mode=...)``)."""
        return "max" if self.goal == "maximize" else "min"


TRAIN_PREFIX = "Train/"


def train_loss(component: str = "loss") -> Metric:
    """A component of the training loss as the optimization logs it (``Train/loss``)."""
    return Metric(f"{TRAIN_PREFIX}{component}", "minimize", None)


EvaluationT = TypeVar("EvaluationT", bound=Evaluation, covariant=True)


@dataclass(frozen=True)
class Evaluate(Generic[EvaluationT]):
    """One evaluation of the experiment: its name in the logs, what to compute, how often.

    ``every`` is a duration such as ``minutes(1)``, ``global_steps(500)`` or ``epochs(1)``
    (or a link to one in ``eval_params``); the evaluation also runs before the first step
    and after the last.
    """

    name: str
    """The entry's name in the logs: ``"ELBO"`` logs ``ELBO/Train``, ``ELBO/Validation``."""
    evaluation: EvaluationT
    every: Duration

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or "." in self.name:
            raise ConfigError(
                f"Evaluate(name={self.name!r}) needs a name for the logs such as 'ELBO' "
                "(no dots: the name is also a config key, evaluation.<name>.every)"
            )
        _check_duration(f"Evaluate({self.name!r}, every=...)", self.every)
        _check_config(f"Evaluate({self.name!r}, evaluation=...)", self.evaluation)

    def on(self: Evaluate[PerSplitMean[Any]], split: Split) -> Metric:
        """The metric this evaluation logs for ``split``: ``elbo.on(VALID)``."""
        config: Any = self.evaluation  # a config of the evaluation, not an instance of it
        evaluation: Any = get_target(config)
        goal: Goal = "maximize" if evaluation.higher_is_better else "minimize"
        return Metric(f"{self.name}/{split_label(split)}", goal, self.name)


@dataclass
class Run:
    """Names of the run: the W&B project and run name, and the run folder's path."""

    project: str = "noname"
    name: str = "run"


@dataclass
class Checkpoint:
    """Checkpoints in ``<run folder>/checkpoints``: the last one, and the best by a metric."""

    monitor: Metric | None = None
    """The metric to keep the best checkpoint by, e.g. ``elbo.on(VALID)``; None keeps only
    the last. Larger or smaller is better as the metric says."""
    save_last: bool = True
    every: CheckpointEvery = field(default_factory=lambda: minutes(15))
    """How often to save during training: a time, epochs or global steps; a checkpoint is
    also saved when training ends or is stopped."""

    def __post_init__(self) -> None:
        if self.monitor is not None and not isinstance(self.monitor, Metric):
            raise ConfigError(
                f"Checkpoint(monitor={self.monitor!r}) takes a metric from an evaluation, "
                "e.g. monitor=elbo.on(VALID)"
            )
        _check_duration("Checkpoint(every=...)", self.every)
        if isinstance(self.every, CounterDuration):
            raise ConfigError(
                f"Checkpoint(every={self.every!r}) counts {self.every.unit}s; checkpoints "
                "are saved by time, epochs or global steps, e.g. every=global_steps(1000)"
            )

    def stored(self) -> StoredCheckpoint:
        """This checkpoint as the config holds it (and the command line changes it)."""
        monitor = self.monitor
        return StoredCheckpoint(
            monitor=None if monitor is None else str(monitor),
            mode="max" if monitor is None else monitor.mode,
            save_last=self.save_last,
            every=str(self.every),
        )


@dataclass
class StoredCheckpoint:
    """``checkpoint`` in the config: the metric's name, Lightning's mode, plain strings."""

    monitor: str | None = None
    """The logged scalar to keep the best checkpoint by; null keeps only the last."""
    mode: Literal["max", "min"] = "max"
    """Whether a larger (max) or smaller (min) monitor value is better."""
    save_last: bool = True
    """Keep last.ckpt, the checkpoint a resumed run continues from."""
    every: str = "15 minutes"
    """How often to save during training: a time, 'N epochs' or 'N global_steps'."""


def _no_eval_settings() -> Any:
    return NoEvalSettings()


# Covariant (the experiment is frozen), with EvalSettings as the default, so that
# `Experiment[Any]` is any experiment, whatever its eval params.
ParamsT = TypeVar("ParamsT", bound=HyperParams, covariant=True)
EvalParamsT = TypeVar("EvalParamsT", bound=EvalSettings, default=EvalSettings, covariant=True)
# Unbounded: a bound here stops pyright from solving it against both the optimization and
# the evaluations; the optimization's own bound (a trainable model) still applies.
ModelT = TypeVar("ModelT", default=Any)


@dataclass(frozen=True)
class Experiment(Generic[ParamsT, EvalParamsT, ModelT]):
    """A complete, typed experiment; ``python -m experiments.<name>`` runs it."""

    name: str
    """The config name (use the module's name): run with ``python -m experiments.<name>``."""
    params: ParamsT
    """A :class:`~dlconf.HyperParams` instance with every hyper-parameter; components link
    to it with ``link(Params)``."""
    data: Mapping[str, DataSplits]
    """The data sets this experiment can use, by name; ``data=NAME`` picks one."""
    optimization: Optimization[ModelT]
    """The optimization config; its data is :data:`dlconf.DATA`, the selected data set."""
    default_data: str | None = None
    """The data set used unless ``data=NAME`` says otherwise; the first one by default."""
    evaluation: Sequence[Evaluate[Evaluation[ModelT]]] = ()
    """What to log and how often; each evaluation must be able to use the model (an ELBO
    needs a model with ``elbo``: the checker compares them)."""
    eval_params: EvalParamsT = field(default_factory=_no_eval_settings)
    """An :class:`~dlconf.EvalSettings` instance: evaluation rhythms and sample counts."""
    seed: int = 42
    run: Run = field(default_factory=Run)
    train_for: Duration | None = None
    """How long to train, e.g. ``epochs(10)`` or ``minutes(30)``; None leaves it to the
    trainer's own limits (``trainer.max_epochs``, ``trainer.max_steps``)."""
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    trainer: Trainer | None = None
    """Trainer arguments that differ from dlconf's defaults: ``conf(Trainer)(...)``."""
    callbacks: Mapping[str, Callback] = field(default_factory=dict[str, Callback])
    """Extra Lightning callbacks by name, e.g. ``{"early_stop": conf(EarlyStopping)(...)}``."""

    def __post_init__(self) -> None:
        where = f"experiment {self.name!r}"
        if not isinstance(self.params, HyperParams):
            raise ConfigError(
                f"{where}: params={self.params!r} must be an instance of a HyperParams "
                "subclass, e.g. params=Params()"
            )
        if not isinstance(self.eval_params, EvalSettings):
            raise ConfigError(
                f"{where}: eval_params={self.eval_params!r} must be an instance of an "
                "EvalSettings subclass, e.g. eval_params=EvalParams()"
            )
        if not self.data:
            raise ConfigError(f"{where}: data lists no data set")
        if self.default_data is None:
            object.__setattr__(self, "default_data", next(iter(self.data)))
        elif self.default_data not in self.data:
            raise ConfigError(
                f"{where}: default_data={self.default_data!r} is not one of its data sets"
                f"{close_matches(self.default_data, self.data)}: {', '.join(self.data)}"
            )
        _check_config(f"{where}: optimization", self.optimization)
        if self.trainer is not None:
            _check_config(f"{where}: trainer", self.trainer)
        for name, callback in self.callbacks.items():
            _check_config(f"{where}: callbacks[{name!r}]", callback)
        if self.train_for is not None:
            _check_duration(f"{where}: train_for", self.train_for)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"{where}: seed={self.seed!r} must be a whole number, e.g. seed=42")
        self._check_evaluations(where)

    @property
    def param_links(self) -> ParamsT:
        """This experiment's params as links (``p.beta`` is ``${params.beta}``), typed as
        its own params: a sweep that names them cannot vary another experiment's."""
        return link(type(self.params))

    @property
    def eval_param_links(self) -> EvalParamsT:
        """This experiment's eval params as links, typed as its own eval params."""
        return link(type(self.eval_params))

    def _check_evaluations(self, where: str) -> None:
        if isinstance(self.evaluation, Mapping):
            raise ConfigError(
                f"{where}: evaluation is a list of Evaluate(name, evaluation, every=...), "
                "not a dict"
            )
        names = [evaluate.name for evaluate in self.evaluation]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ConfigError(f"{where}: two evaluations are named {repeated[0]!r}")
        monitor = self.checkpoint.monitor
        if (
            monitor is not None
            and monitor.evaluation is not None
            and monitor.evaluation not in names
        ):
            raise ConfigError(
                f"{where}: checkpoint monitor {str(monitor)!r} comes from an evaluation "
                f"named {monitor.evaluation!r}, which this experiment does not run "
                f"(its evaluations: {', '.join(names) or 'none'})"
            )


def _check_config(where: str, value: object) -> None:
    """A component config (``conf(X)(...)``), not a component built in the module."""
    is_instance = dataclasses.is_dataclass(value) and not isinstance(value, type)
    if is_instance and (hasattr(value, "_target_") or is_partial_builds(value)):
        return
    if is_interpolation(value):
        return
    kind = type(value).__name__
    raise ConfigError(
        f"{where}: a {kind} was built here, in the experiment module; configure it "
        f"instead: conf({kind})(...)"
    )


def _check_duration(where: str, value: object) -> None:
    if isinstance(value, Duration) or is_interpolation(value):
        return
    raise ConfigError(
        f"{where}={value!r} is not a duration: write minutes(1), epochs(10), "
        "global_steps(500), ... (from dlconf.durations); strings are for the command line"
    )
