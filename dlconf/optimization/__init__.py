"""Optimization procedures: LightningModules that own optimizer, data loaders and counters."""

from dlconf.optimization.base import Optimization
from dlconf.optimization.batch_adam import AdamBatchOptimization

__all__ = ["AdamBatchOptimization", "Optimization"]
