"""Run an evaluation every N units of training and log what it returns.

The seed's ``EvaluationCallback``: an :class:`~dlconf.evaluation.base.Evaluation` maps the
optimization to a log entry at train start (before the first step), whenever ``every``
(``"1 minute"``, ``"500 global_steps"``, ``"2 epochs"``, ``"100 iterations"``) has passed
since the last evaluation, and at train end, never twice at the same global step.

While it evaluates, the run's shared :class:`~dlconf.callbacks.clock.TrainingClock` is
paused, so neither ``train_for`` nor other time-based evaluations count that time. The entry
goes to every :class:`~dlconf.loggers.base.EntryLogger` of the trainer with the step and the
counters, together with ``EvaluationTime/<name>`` in seconds; its numbers also land in
``trainer.callback_metrics`` so a ``ModelCheckpoint(monitor="ELBO/Validation")`` can use them.

Under DDP, an evaluation that can share its work
(:class:`~dlconf.evaluation.support.ShardedEvaluation`: ELBO, accuracy) runs on every
process, each on its part of the samples, and sums across them; others (image grids) run
on global rank zero while the other processes wait. Rank zero logs.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import Any, cast

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor, nn
from typing_extensions import override

from dlconf.callbacks.clock import TrainingClock, check_unit, progress
from dlconf.durations import EPOCH, Duration
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.entries import LogEntry, ScalarEntry, scalar_values
from dlconf.evaluation.support import Shard, ShardedEvaluation
from dlconf.loggers.base import EntryLogger
from dlconf.optimization.base import Optimization, is_optimization


class EvaluationCallback(Callback):
    """Evaluates ``evaluation`` every ``every`` of training and logs it under ``name``.

    Every rank evaluates its part of a :class:`ShardedEvaluation`; any other evaluation runs
    on global rank zero alone. Rank zero logs; the decision to evaluate and the resulting
    numbers are shared with every rank, so all of them agree on what was logged and on any
    checkpoint that monitors it.

    Args:
        name: the entry's name in the logs, e.g. ``"ELBO"`` or ``"Images/Samples"``.
        evaluation: what to compute.
        every: how often, e.g. ``parse_duration("1 minute")``.
        clock: the run's training clock, shared with its other duration callbacks.
    """

    def __init__(
        self, name: str, evaluation: Evaluation, every: Duration, clock: TrainingClock
    ) -> None:
        super().__init__()
        if not name.strip():
            raise ValueError(f"EvaluationCallback(name={name!r}) needs a non-empty name")
        if not every.amount > 0:
            raise ValueError(
                f"EvaluationCallback(name={name!r}, every={every!r}) needs a positive "
                "Duration, e.g. parse_duration('1 minute')"
            )
        self._name = name
        self._evaluation = evaluation
        self._every = every
        self._clock = clock
        self._last_step: int | None = None  # global step of the last evaluation
        self._last_amount = 0.0  # progress, in `every.unit`, at the last evaluation
        self._evaluations = 0
        self._sharded = isinstance(evaluation, ShardedEvaluation)
        # Formatted once: Lightning reads it for every hook call, 6 hooks a step, even with
        # no profiler (benchmarks/README.md, "Per-step overhead").
        self._state_key = self._generate_state_key(name=name)

    @property
    def name(self) -> str:
        """The entry's name in the logs."""
        return self._name

    @property
    def evaluation(self) -> Evaluation:
        """What this callback computes."""
        return self._evaluation

    @property
    def every(self) -> Duration:
        """How often this evaluation runs."""
        return self._every

    @property
    def last_step(self) -> int | None:
        """The global step of the last evaluation, ``None`` before the first."""
        return self._last_step

    @property
    def evaluations(self) -> int:
        """How many times this callback has evaluated, across resumed runs."""
        return self._evaluations

    @property
    @override
    def state_key(self) -> str:
        # A run holds one callback per evaluation; their checkpoint states must not collide.
        return self._state_key

    @override
    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not is_optimization(pl_module):
            raise TypeError(
                f"EvaluationCallback {self._name!r} evaluates a dlconf Optimization, "
                f"got {type(pl_module).__name__}"
            )
        check_unit(self._every, pl_module, key=f"evaluation {self._name!r} every")

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._clock.start()
        # A fresh run evaluates its untrained state; a resumed one keeps its rhythm, so its
        # logs and random numbers match a run that was never interrupted.
        self._evaluate_if(trainer, pl_module, due=self._last_step is None)

    @override
    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        if self._every.unit == EPOCH:
            return
        self._evaluate_if(trainer, pl_module, due=self._is_due(trainer, pl_module))

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._every.unit != EPOCH:
            return
        self._evaluate_if(trainer, pl_module, due=self._is_due(trainer, pl_module))

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._evaluate_if(trainer, pl_module, due=True)
        self._clock.stop()

    @override
    def state_dict(self) -> dict[str, Any]:
        return {
            "last_step": self._last_step,
            "last_amount": self._last_amount,
            "evaluations": self._evaluations,
            # Saved here too so a run without `train_for` resumes its time-based rhythm.
            "training_seconds": self._clock.elapsed,
        }

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        last_step = state_dict.get("last_step")
        self._last_step = None if last_step is None else int(last_step)
        self._last_amount = float(state_dict.get("last_amount", 0.0))
        self._evaluations = int(state_dict.get("evaluations", 0))
        self._clock.restore(float(state_dict.get("training_seconds", 0.0)))

    def _is_due(self, trainer: Trainer, pl_module: LightningModule) -> bool:
        since_last = progress(self._every.unit, trainer, pl_module, self._clock) - self._last_amount
        due = since_last >= self._every.amount
        if self._every.is_time:
            # Only wall-clock time can differ between DDP ranks; steps, epochs and counters
            # advance in lockstep, so they need no collective on every batch.
            due = trainer.strategy.broadcast(due)
        return due

    def _evaluate_if(self, trainer: Trainer, pl_module: LightningModule, *, due: bool) -> None:
        if not due or trainer.global_step == self._last_step:
            return
        self._last_step = trainer.global_step
        self._last_amount = progress(self._every.unit, trainer, pl_module, self._clock)
        self._evaluations += 1
        metrics: dict[str, float] = {}
        with self._clock.paused():
            if self._sharded or trainer.is_global_zero:
                assert is_optimization(pl_module)  # checked in on_fit_start
                metrics = self._evaluate_and_log(trainer, pl_module)
            # Every rank needs the numbers: a ModelCheckpoint monitoring them decides, and
            # saves (a collective), on all ranks alike. Sharded numbers agree already, up
            # to how each rank's all-reduce rounded; rank zero's are the ones logged.
            metrics = trainer.strategy.broadcast(metrics)
        trainer.callback_metrics.update({key: torch.tensor(v) for key, v in metrics.items()})

    def _evaluate_and_log(self, trainer: Trainer, optimization: Optimization) -> dict[str, float]:
        started = self._clock.now()
        with _eval_mode(optimization), torch.no_grad():
            entry = self._evaluate(trainer, optimization)
        seconds = self._clock.now() - started
        step = trainer.global_step
        counters = {"epoch": trainer.current_epoch, "global_step": step, **optimization.counters}
        for logger in trainer.loggers if trainer.is_global_zero else []:
            if isinstance(logger, EntryLogger):
                logger.log(self._name, entry, step, counters)
                logger.log(f"EvaluationTime/{self._name}", ScalarEntry(seconds), step, counters)
        return scalar_values(self._name, entry)

    def _evaluate(self, trainer: Trainer, optimization: Optimization) -> LogEntry:
        if not isinstance(self._evaluation, ShardedEvaluation):
            return self._evaluation.evaluate(optimization)
        strategy = trainer.strategy

        def total(partial: Tensor) -> Tensor:
            # An all-reduce; a single-device strategy returns the tensor as it is.
            summed = strategy.reduce(partial, reduce_op="sum")  # pyright: ignore[reportUnknownMemberType]
            return cast(Tensor, summed)

        shard = Shard(rank=trainer.global_rank, world_size=trainer.world_size, sum=total)
        return self._evaluation.evaluate_shard(optimization, shard)


@contextmanager
def _eval_mode(module: nn.Module) -> Generator[None, None, None]:
    """``module.eval()`` for the block, then each submodule's own mode back.

    Per submodule, because a model may keep parts in eval mode on purpose (a frozen
    pretrained encoder) and a blanket ``train()`` afterwards would undo that.
    """
    modes = {sub: sub.training for sub in module.modules()}
    module.eval()
    try:
        yield
    finally:
        for sub, training in modes.items():
            sub.training = training
