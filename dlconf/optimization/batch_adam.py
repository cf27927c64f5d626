"""Mini-batch training with Adam: the seed's ``batch_ADAM`` procedure."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from dlconf.data import TRAIN, Batch, DataSplits, Sample
from dlconf.models.protocols import TrainableModel
from dlconf.optimization.base import Optimization


class AdamBatchOptimization(Optimization):
    """Shuffled mini-batches of the ``train`` split, one Adam step per batch.

    Every loss component the model returns is logged as ``Train/<name>``.
    """

    def __init__(
        self,
        model: TrainableModel,
        data: DataSplits,
        batch_size: int,
        lr: float,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if lr <= 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        super().__init__(model, data)
        self.trainable: TrainableModel = model
        self.batch_size = batch_size
        self.lr = lr
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def train_dataloader(self) -> DataLoader[Sample]:
        return DataLoader(
            self.data[TRAIN],
            batch_size=self.batch_size,
            shuffle=True,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        losses = self.trainable.compute_loss(batch)
        for name, value in losses.items():
            self.log(f"Train/{name}", value, on_step=True, on_epoch=False)
        self.counters["iteration"] += 1
        return losses["loss"]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)
