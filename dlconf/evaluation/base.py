"""The evaluation interface: map an optimization (model + data) to a log entry."""

from __future__ import annotations

from abc import ABC, abstractmethod

from dlconf.evaluation.entries import LogEntry
from dlconf.optimization.base import Optimization


class Evaluation(ABC):
    """Computes one :data:`LogEntry` from the current state of an optimization.

    Called by the evaluation callback at its own rhythm, in ``eval`` mode and without
    gradients; implementations read ``optimization.model`` and ``optimization.data``.
    """

    @abstractmethod
    def evaluate(self, optimization: Optimization) -> LogEntry: ...
