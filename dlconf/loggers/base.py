"""One small logging surface over TensorBoard and W&B.

Lightning's loggers differ in how they write images and grouped scalars. Evaluations
produce typed :data:`LogEntry` values instead, and every logger that dlconf builds
implements :class:`EntryLogger`, so an evaluation is written the same way everywhere.

A logger that also keeps the run's configuration (W&B's run config, TensorBoard's hparams)
implements :class:`ConfigRecorder`; the runner hands it the composed config once the run
folder exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dlconf.evaluation.entries import LogEntry

if TYPE_CHECKING:
    from omegaconf import DictConfig


@runtime_checkable
class EntryLogger(Protocol):
    """Writes typed entries; ``counters`` (``iteration``, ``epoch``...) are logged beside them."""

    def log(self, name: str, entry: LogEntry, step: int, counters: Mapping[str, int]) -> None: ...


@runtime_checkable
class ConfigRecorder(Protocol):
    """Records the run's composed config; ``run_dir`` holds ``config.yaml`` and its peers."""

    def record_config(self, cfg: DictConfig, run_dir: Path) -> None: ...
