"""The base of every optimization procedure: a LightningModule that owns model, data, counters.

An optimization decides how a model is updated: optimizers, data loaders, what one training
step does. It keeps ``counters`` (``iteration``, and e.g. generator / discriminator steps in
adversarial training) that durations such as ``evaluate every 500 iterations`` count in,
and saves them in checkpoints so a resumed run counts on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lightning.pytorch import LightningModule
from torch import nn

from dlconf.data import DataSplits


class Optimization(LightningModule):
    """A model, its data splits, and the counters of the procedure that trains it."""

    counter_names: ClassVar[tuple[str, ...]] = ("iteration",)
    """The counters this procedure keeps; durations may be written in any of them."""

    def __init__(self, model: nn.Module, data: DataSplits) -> None:
        super().__init__()
        self.model = model
        self.data = data
        self.counters: dict[str, int] = dict.fromkeys(self.counter_names, 0)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["dlconf_counters"] = dict(self.counters)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.counters.update(checkpoint.get("dlconf_counters", {}))
