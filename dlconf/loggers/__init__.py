"""Loggers: one ``log(name, entry, step, counters)`` over TensorBoard and W&B."""

from dlconf.loggers.base import EntryLogger
from dlconf.loggers.tensorboard import TensorBoardEntryLogger

__all__ = ["EntryLogger", "TensorBoardEntryLogger"]
