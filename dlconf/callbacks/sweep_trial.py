"""A local sweep's trial: report the sweep's metric at each evaluation, stop when it should.

A local sweep (:mod:`dlconf.sweeps.local`) starts each trial with :data:`TRIAL_DIR_ENV`
(the trial's folder), :data:`METRIC_ENV` (the metric it ranks by) and :data:`STATE_ENV`
(the sweep's state file) set. The runner then adds :class:`SweepTrialCallback`, which at
each evaluation of the metric

- appends ``{"step": ..., "value": ...}`` to ``<trial folder>/history.jsonl``, which the
  sweep copies into its state for the other trials (TensorBoard's events reach the disk
  only every couple of minutes);
- asks the sweep's early termination (:func:`dlconf.sweeps.early_stop.stop_now`) whether
  to stop here, and if so ends training the normal way at this step (``trainer.should_stop``:
  ``last.ckpt`` saved, exit 0), leaving ``<trial folder>/stopped`` so the sweep records it.

``<trial folder>/stop``, written by hand, stops the trial the same way (checked once a
second). Under DDP the decisions are rank zero's, shared at evaluations, which every rank
reaches at the same step.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from typing_extensions import override

from dlconf.runner.run_label import SWEEP_TRIAL_ENV_VAR

TRIAL_ENV = SWEEP_TRIAL_ENV_VAR
"""The trial's number in its sweep."""
TRIAL_DIR_ENV = "DLCONF_SWEEP_TRIAL_DIR"
METRIC_ENV = "DLCONF_SWEEP_METRIC"
STATE_ENV = "DLCONF_SWEEP_STATE"
HISTORY_FILE = "history.jsonl"
STOP_FILE = "stop"
"""Written to ask the trial to stop."""
STOPPED_FILE = "stopped"
"""Written by the trial when it stopped before its budget: why."""
CHECK_SECONDS = 1.0


def sweep_trial_callback(environ: Mapping[str, str] | None = None) -> SweepTrialCallback | None:
    """The callback for a run started as a local sweep's trial; None for any other run."""
    env = os.environ if environ is None else environ
    folder, metric, state = env.get(TRIAL_DIR_ENV), env.get(METRIC_ENV), env.get(STATE_ENV)
    number = env.get(TRIAL_ENV, "")
    if not folder or not metric or not state or not number.isdigit():
        return None
    return SweepTrialCallback(Path(folder), metric, Path(state), int(number))


class SweepTrialCallback(Callback):
    """Writes ``metric``'s values to ``folder/history.jsonl``; stops when the sweep says."""

    def __init__(self, folder: Path, metric: str, state_file: Path, number: int) -> None:
        super().__init__()
        self.folder = folder
        self.metric = metric
        self.state_file = state_file
        self.number = number
        self._history: list[tuple[int, float]] = []
        self._last_value: object = None  # the tensor of the last evaluation seen
        self._next_check = 0.0

    @property
    def history_file(self) -> Path:
        return self.folder / HISTORY_FILE

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._history = self._read_until(trainer.global_step)  # a resumed run redoes the rest
        if trainer.is_global_zero:
            self._write_history()
        self._at_evaluation(trainer)  # the untrained model's, at step 0

    @override
    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        if self._at_evaluation(trainer) or trainer.world_size > 1:
            return
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + CHECK_SECONDS
            if (self.folder / STOP_FILE).exists():
                self._stop(trainer, "asked to (stop file)")

    @override
    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._at_evaluation(trainer)

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._record(trainer)  # the final evaluation; too late to stop

    def _at_evaluation(self, trainer: Trainer) -> bool:
        """Record a new evaluation of the metric and decide whether to stop; whether one came."""
        if not self._record(trainer):
            return False
        reason = None
        if trainer.is_global_zero:
            reason = self._reason_to_stop()
        if trainer.world_size > 1:
            reason = trainer.strategy.broadcast(reason)
        if reason is not None:
            self._stop(trainer, reason)
        return True

    def _reason_to_stop(self) -> str | None:
        from dlconf.sweeps.early_stop import stop_now  # the sweep's engine, loaded on demand

        values = [value for _, value in self._history]
        if stop_now(self.state_file, self.number, values):
            return f"early termination after {len(values)} evaluations of {self.metric}"
        if (self.folder / STOP_FILE).exists():
            return "asked to (stop file)"
        return None

    def _stop(self, trainer: Trainer, reason: str) -> None:
        trainer.should_stop = True
        if trainer.is_global_zero:
            (self.folder / STOPPED_FILE).write_text(f"step {trainer.global_step}: {reason}\n")

    def _record(self, trainer: Trainer) -> bool:
        """Append the metric if an evaluation logged a new value of it; whether one did."""
        # The evaluation callbacks (before this one) put a new tensor there each time.
        value = trainer.callback_metrics.get(self.metric)
        if value is None or value is self._last_value:
            return False
        self._last_value = value
        self._history.append((trainer.global_step, float(value)))
        if trainer.is_global_zero:
            line = json.dumps({"step": trainer.global_step, "value": float(value)})
            with self.history_file.open("a") as history:
                history.write(line + "\n")
        return True

    def _read_until(self, step: int) -> list[tuple[int, float]]:
        try:
            lines = self.history_file.read_text().splitlines()
        except OSError:
            return []
        kept: list[tuple[int, float]] = []
        for line in lines:
            try:
                entry = json.loads(line)
                at, value = int(entry["step"]), float(entry["value"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a kill
            if at <= step:
                kept.append((at, value))
        return kept

    def _write_history(self) -> None:
        lines = [json.dumps({"step": at, "value": value}) + "\n" for at, value in self._history]
        self.folder.mkdir(parents=True, exist_ok=True)
        self.history_file.write_text("".join(lines))
