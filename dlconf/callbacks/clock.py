"""Training time and progress: what the duration callbacks count in.

"Train for 30 minutes" and "evaluate every minute" mean minutes of *training*, not of
evaluation: a run that spends half its time computing an expensive metric must still train
for its full budget, and its metric must still be computed every minute of training. So time
is read from a :class:`TrainingClock` that evaluation pauses.

One clock serves one run, and every callback of that run must hold the *same* clock, so an
evaluation pauses it for all of them. The runner creates it and passes it to each callback::

    clock = TrainingClock()
    callbacks = [
        TrainForCallback(parse_duration("30 minutes"), clock),
        EvaluationCallback("ELBO", ELBOEvaluation(), parse_duration("1 minute"), clock),
    ]

:func:`progress` reads how much of any duration unit has passed: time from the clock,
epochs and global steps from the trainer, anything else from the optimization's counters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from contextlib import contextmanager

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.loops.progress import _ProcessedTracker

from dlconf.durations import EPOCH, GLOBAL_STEP, SECONDS_PER_UNIT, Duration
from dlconf.errors import DurationError
from dlconf.optimization.base import Optimization


class TrainingClock:
    """A monotonic stopwatch that runs while training and stops while anyone pauses it.

    ``start`` and ``stop`` are idempotent because every callback holding the clock calls
    them from its own ``on_train_start`` / ``on_train_end``; Lightning's callback order then
    does not matter. Pauses nest, so two evaluations due at the same step are both excluded.

    Args:
        time_fn: seconds from a monotonic source; tests pass a fake one instead of sleeping.
    """

    def __init__(self, time_fn: Callable[[], float] = time.monotonic) -> None:
        self._time_fn = time_fn
        self._offset = 0.0  # seconds accumulated before the current running stretch
        self._running_since: float | None = None
        self._started = False
        self._pauses = 0

    @property
    def elapsed(self) -> float:
        """Seconds of training so far, evaluation excluded, including a restored offset."""
        if self._running_since is None:
            return self._offset
        return self._offset + self._time_fn() - self._running_since

    @property
    def running(self) -> bool:
        """Whether training time is being counted right now."""
        return self._running_since is not None

    def now(self) -> float:
        """The clock's time source, for measuring how long a pause lasted."""
        return self._time_fn()

    def start(self) -> None:
        """Count training time from now on (unless paused); no-op when already started."""
        self._started = True
        self._resume_if_free()

    def stop(self) -> None:
        """Stop counting until the next ``start``; no-op when already stopped."""
        self._freeze()
        self._started = False

    def pause(self) -> None:
        """Stop counting until the matching :meth:`resume`."""
        self._pauses += 1
        self._freeze()

    def resume(self) -> None:
        """End one :meth:`pause`; counting restarts when no pause is left and started."""
        if self._pauses == 0:
            raise RuntimeError("TrainingClock.resume() called without a matching pause()")
        self._pauses -= 1
        self._resume_if_free()

    @contextmanager
    def paused(self) -> Generator[None, None, None]:
        """Exclude the body of a ``with`` block from training time."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def restore(self, elapsed: float) -> None:
        """Continue from ``elapsed`` seconds, e.g. the training time saved in a checkpoint."""
        if elapsed < 0:
            raise ValueError(f"elapsed training time must be >= 0, got {elapsed!r}")
        self._offset = float(elapsed)
        if self._running_since is not None:
            self._running_since = self._time_fn()

    def _freeze(self) -> None:
        if self._running_since is not None:
            self._offset += self._time_fn() - self._running_since
            self._running_since = None

    def _resume_if_free(self) -> None:
        if self._started and self._pauses == 0 and self._running_since is None:
            self._running_since = self._time_fn()


def progress(unit: str, trainer: Trainer, module: LightningModule, clock: TrainingClock) -> float:
    """How many ``unit`` (a :class:`Duration` unit) have passed in this run so far."""
    if unit in SECONDS_PER_UNIT:
        return clock.elapsed / SECONDS_PER_UNIT[unit]
    if unit == EPOCH:
        # Finished epochs. `trainer.current_epoch` is still the finishing epoch's index inside
        # `on_train_epoch_end` and only moves on after it; `processed` is already counted
        # there and equals `current_epoch` everywhere else.
        current = trainer.fit_loop.epoch_progress.current
        if isinstance(current, _ProcessedTracker):  # always, for the fit loop
            return float(current.processed)
        return float(trainer.current_epoch)
    if unit == GLOBAL_STEP:
        return float(trainer.global_step)
    return float(counters(module)[unit])


def check_unit(duration: Duration, module: LightningModule, *, key: str) -> None:
    """Fail early, naming ``key``, when ``duration`` counts a counter the module does not keep."""
    if duration.is_time or duration.unit in (EPOCH, GLOBAL_STEP):
        return
    kept = counters(module)
    if duration.unit not in kept:
        units = ", ".join((*SECONDS_PER_UNIT, EPOCH, GLOBAL_STEP, *kept))
        raise DurationError(
            f"{key}='{duration}' counts {duration.unit}s, but {type(module).__name__} keeps "
            f"no such counter; units: {units}"
        )


def counters(module: LightningModule) -> dict[str, int]:
    """The optimization's counters (``iteration``...); none for a plain LightningModule."""
    return dict(module.counters) if isinstance(module, Optimization) else {}
