"""A local sweep's trial: report the sweep's metric at each evaluation, stop when asked.

A local sweep (:mod:`dlconf.sweeps.local`) starts each trial with
:data:`TRIAL_DIR_ENV` (the trial's folder) and :data:`METRIC_ENV` (the metric it ranks
by) set. The runner then adds :class:`SweepTrialCallback`, which

- appends ``{"step": ..., "value": ...}`` to ``<trial folder>/history.jsonl`` each time an
  evaluation logs the metric: the sweep reads it to decide early termination (TensorBoard's
  events reach the disk only every couple of minutes, too late for that);
- ends training the normal way (``trainer.should_stop``: the final evaluation, ``last.ckpt``,
  exit 0) once the sweep has written ``<trial folder>/stop``, checked at most once a second
  so a step costs nothing measurable.

Under DDP every rank must stop at the same step: there the request is read on rank zero
at evaluations only (which all ranks reach together) and broadcast.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from typing_extensions import override

TRIAL_DIR_ENV = "DLCONF_SWEEP_TRIAL_DIR"
METRIC_ENV = "DLCONF_SWEEP_METRIC"
HISTORY_FILE = "history.jsonl"
STOP_FILE = "stop"
CHECK_SECONDS = 1.0


def sweep_trial_callback(environ: dict[str, str] | None = None) -> SweepTrialCallback | None:
    """The callback for a run started as a local sweep's trial; None for any other run."""
    env = dict(os.environ) if environ is None else environ
    folder, metric = env.get(TRIAL_DIR_ENV), env.get(METRIC_ENV)
    if not folder or not metric:
        return None
    return SweepTrialCallback(Path(folder), metric)


class SweepTrialCallback(Callback):
    """Writes ``metric``'s values to ``folder/history.jsonl``; stops on ``folder/stop``."""

    def __init__(self, folder: Path, metric: str) -> None:
        super().__init__()
        self.folder = folder
        self.metric = metric
        self._last_value: object = None  # the tensor of the last evaluation seen
        self._next_check = 0.0

    @property
    def history_file(self) -> Path:
        return self.folder / HISTORY_FILE

    @property
    def stop_file(self) -> Path:
        return self.folder / STOP_FILE

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.is_global_zero:
            self._drop_after(trainer.global_step)  # a resumed run logs those steps again
        self._record(trainer)  # the evaluation of the untrained model, at step 0

    @override
    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        evaluated = self._record(trainer)
        if trainer.world_size > 1:
            if evaluated:
                stop = trainer.strategy.broadcast(trainer.is_global_zero and self._asked())
                trainer.should_stop = trainer.should_stop or stop
            return
        now = time.monotonic()
        if evaluated or now >= self._next_check:
            self._next_check = now + CHECK_SECONDS
            if self._asked():
                trainer.should_stop = True

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer)

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer)  # the final evaluation

    def _asked(self) -> bool:
        return self.stop_file.exists()

    def _record(self, trainer: Trainer) -> bool:
        """Append the metric if an evaluation logged a new value of it; whether one did."""
        # The evaluation callbacks (before this one) put a new tensor there each time.
        value = trainer.callback_metrics.get(self.metric)
        if value is None or value is self._last_value:
            return False
        self._last_value = value
        if trainer.is_global_zero:
            line = json.dumps({"step": trainer.global_step, "value": float(value)})
            with self.history_file.open("a") as history:
                history.write(line + "\n")
        return True

    def _drop_after(self, step: int) -> None:
        if not self.history_file.is_file():
            return
        lines = self.history_file.read_text().splitlines()
        kept = [line for line in lines if 0 <= _step(line) <= step]
        self.history_file.write_text("".join(line + "\n" for line in kept))


def _step(line: str) -> int:
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return -1  # a line cut by a kill: dropped
