"""One small logging surface over TensorBoard and W&B.

Lightning's loggers differ in how they write images and grouped scalars. Evaluations
produce typed :data:`LogEntry` values instead, and every logger that dlconf builds
implements :class:`EntryLogger`, so an evaluation is written the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from dlconf.evaluation.entries import LogEntry


@runtime_checkable
class EntryLogger(Protocol):
    """Writes typed entries; ``counters`` (``iteration``, ``epoch``...) are logged beside them."""

    def log(self, name: str, entry: LogEntry, step: int, counters: Mapping[str, int]) -> None: ...
