"""The experiment: everything the seed's experiment YAML said, as one typed object.

An experiment module builds one :class:`Experiment` from typed component configs (see
:mod:`dlconf.configs`) and hands it to :func:`dlconf.main`. Fields mirror the seed's keys:
``params`` and ``eval_params`` hold every hyper-parameter, ``data`` the selectable data sets,
``optimization`` the procedure (which receives model and data), ``evaluation`` what to log
and how often, ``train_for`` when to stop, ``run`` the project and run names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from lightning.pytorch import Callback, Trainer

from dlconf.data import DataSplits
from dlconf.evaluation.base import Evaluation
from dlconf.optimization.base import Optimization

ParamsT = TypeVar("ParamsT")


@dataclass
class Run:
    """Names of the run: the W&B project and run name, and the run folder's path."""

    project: str = "noname"
    name: str = "run"


@dataclass
class Checkpoint:
    """Checkpoints in ``<run folder>/checkpoints``: the last one, and the best by a metric."""

    monitor: str | None = None
    """A logged scalar to rank checkpoints by, e.g. ``ELBO/Validation``; None keeps only last."""
    mode: str = "max"
    """``max`` or ``min``: whether a larger ``monitor`` value is better."""
    save_last: bool = True
    every: str = "15 minutes"
    """How often to save during training: a time (``"15 minutes"``), ``"N epochs"`` or
    ``"N global_steps"``; a checkpoint is also saved when training ends or is stopped."""

    def __post_init__(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"checkpoint.mode must be 'min' or 'max', got {self.mode!r}")


@dataclass(frozen=True)
class Evaluate:
    """One evaluation of the experiment: what to compute and how often.

    ``every`` is a duration such as ``"1 minute"``, ``"500 global_steps"`` or
    ``"1 epoch"``; the evaluation also runs before the first step and after the last.
    """

    evaluation: Evaluation
    every: str


@dataclass(frozen=True)
class Experiment(Generic[ParamsT]):
    """A complete, typed experiment; ``python -m experiments.<name>`` runs it."""

    name: str
    """The config name (use the module's name): run with ``python -m experiments.<name>``."""
    params: ParamsT
    """A dataclass instance with every hyper-parameter; components link to it."""
    data: Mapping[str, DataSplits]
    """The data sets this experiment can use, by name; ``data=NAME`` picks one."""
    default_data: str
    optimization: Optimization
    """The optimization config; its data is :data:`dlconf.DATA`, the selected data set."""
    evaluation: Mapping[str, Evaluate] = field(default_factory=dict[str, Evaluate])
    eval_params: Any = None
    """A dataclass instance of evaluation settings (frequencies, sample counts), or None."""
    seed: int = 42
    run: Run = field(default_factory=Run)
    train_for: str | None = None
    """How long to train, e.g. ``"10 epochs"`` or ``"30 minutes"``; None leaves it to the
    trainer's own limits (``trainer.max_epochs``, ``trainer.max_steps``)."""
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    trainer: Trainer | None = None
    """Trainer arguments that differ from dlconf's defaults: ``conf(Trainer)(...)``."""
    callbacks: Mapping[str, Callback] = field(default_factory=dict[str, Callback])
    """Extra Lightning callbacks by name, e.g. ``{"early_stop": conf(EarlyStopping)(...)}``."""
