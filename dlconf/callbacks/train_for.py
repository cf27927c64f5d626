"""Stop training after a duration: ``train_for="30 minutes"``, ``"10 epochs"``, ``"3 iterations"``.

The seed's ``TrainDurationCallback``. Time is *training* time from the run's shared
:class:`~dlconf.callbacks.clock.TrainingClock`, so evaluation does not eat the budget, and it
is saved in checkpoints so a resumed run continues its budget instead of starting over.
Steps, time and counters are checked after every training batch; epochs at the end of each
epoch.
"""

from __future__ import annotations

import logging
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from typing_extensions import override

from dlconf.callbacks.clock import TrainingClock, check_unit, progress
from dlconf.durations import EPOCH, Duration

log = logging.getLogger(__name__)


class TrainForCallback(Callback):
    """Sets ``trainer.should_stop`` once ``duration`` of training has passed.

    Args:
        duration: how long to train, e.g. ``parse_duration("7 global_steps")``.
        clock: the run's training clock, shared with its evaluation callbacks.

    Example::

        clock = TrainingClock()
        trainer = Trainer(callbacks=[TrainForCallback(parse_duration("2 hours"), clock)])
    """

    def __init__(self, duration: Duration, clock: TrainingClock) -> None:
        super().__init__()
        if not duration.amount > 0:
            raise ValueError(
                f"TrainForCallback(duration={duration!r}) must be positive, "
                "e.g. parse_duration('10 epochs')"
            )
        self._duration = duration
        self._clock = clock
        self._reached = False

    @property
    def duration(self) -> Duration:
        """How long this run trains."""
        return self._duration

    @property
    def reached(self) -> bool:
        """Whether the duration has been reached and the trainer told to stop."""
        return self._reached

    @override
    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        check_unit(self._duration, pl_module, key="train_for")

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._clock.start()
        # Loop progress is restored only after `on_fit_start`; checking here, before the first
        # batch, lets a resumed run whose budget is already spent stop without training.
        self._check(trainer, pl_module)

    @override
    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        if self._duration.unit == EPOCH:
            return
        self._check(trainer, pl_module)

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._duration.unit != EPOCH:
            return
        self._check(trainer, pl_module)

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._clock.stop()

    @override
    def state_dict(self) -> dict[str, Any]:
        # `reached` is not saved: it is recomputed from the restored progress, so resuming
        # with a longer `train_for` trains on.
        return {"training_seconds": self._clock.elapsed}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._clock.restore(float(state_dict.get("training_seconds", 0.0)))

    def _check(self, trainer: Trainer, pl_module: LightningModule) -> None:
        amount = progress(self._duration.unit, trainer, pl_module, self._clock)
        reached = amount >= self._duration.amount
        if self._duration.is_time:
            # Only wall-clock time can differ between DDP ranks; steps, epochs and counters
            # advance in lockstep, so they need no collective on every batch.
            reached = trainer.strategy.broadcast(reached)
        if not reached:
            return
        self._reached = True
        trainer.should_stop = True
        if trainer.is_global_zero:
            log.info("train_for='%s' reached: training stops", self._duration)
