"""Mini-batch training with Adam: the seed's ``batch_ADAM`` procedure.

Data. A ``train`` split held in memory as whole tensors (a :class:`~dlconf.loading.
TensorBacked` data set, such as the MNIST splits) is batched by index: no per-sample
``__getitem__``, no collate, no worker processes (see :mod:`dlconf.loading`). Any other split
goes through a ``DataLoader``, where ``num_workers`` and ``pin_memory`` apply.
``fast_loading=False`` forces the ``DataLoader`` for every split.

Under DDP each process batches its own shard of the split, as Lightning's
``DistributedSampler`` would give it (``Trainer(use_distributed_sampler=False)`` leaves every
process the whole split, as it does for a ``DataLoader``). The order is drawn from the run's
seed, the same on every process, and changes every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import torch
from lightning.pytorch import Trainer
from torch import Tensor, nn
from torch.utils.data import DataLoader
from typing_extensions import TypeVar

from dlconf.data import TRAIN, Batch, DataSplits, Sample
from dlconf.internals import should_update_logs, uses_distributed_sampler
from dlconf.loading import IndexBatchSampler, TensorBatches, tensors_of
from dlconf.models.protocols import TrainableModel
from dlconf.optimization.base import Optimization

M = TypeVar("M", bound=TrainableModel, default=TrainableModel)


class AdamBatchOptimization(Optimization[M]):
    """Shuffled mini-batches of the ``train`` split, one Adam step per batch.

    Every loss component the model returns is logged as ``Train/<name>`` on the steps
    Lightning writes logs (every ``trainer.log_every_n_steps`` steps, and the last one).

    Args:
        model: what to train; its ``compute_loss(batch)["loss"]`` is minimized.
        data: the splits; batches come from ``data["train"]``.
        batch_size: examples per step.
        lr: Adam's learning rate.
        num_workers: ``DataLoader`` worker processes (per-sample path only).
        pin_memory: pin ``DataLoader`` batches in host memory (per-sample path only).
        fast_loading: batch a tensor-backed ``train`` split by index; ``False`` always
            uses a ``DataLoader``.
        data_on_device: with fast loading, keep the whole ``train`` split on the training
            device (the GPU), so no batch is copied from the host.
        compile_model: train through ``torch.compile(model.compute_loss)``: slower to
            start, faster per step where the compiler helps (mostly GPUs).
    """

    def __init__(
        self,
        model: M,
        data: DataSplits,
        batch_size: int,
        lr: float,
        num_workers: int = 0,
        pin_memory: bool = False,
        fast_loading: bool = True,
        data_on_device: bool = False,
        compile_model: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if lr <= 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        super().__init__(model, data)
        self.batch_size: int = batch_size
        self.lr: float = lr
        self.num_workers: int = num_workers
        self.pin_memory: bool = pin_memory
        self.fast_loading: bool = fast_loading
        self.data_on_device: bool = data_on_device
        self.compile_model: bool = compile_model
        self._compiled_loss: Callable[[Batch], dict[str, Tensor]] | None = None
        self._step_losses: dict[str, Tensor] | None = None  # the last step's, until logged

    @property
    def trainable(self) -> TrainableModel:
        """``model``, as what it is to this procedure: something with a loss."""
        # A property, not a second attribute: an nn.Module attribute would register the
        # model twice, and every checkpoint would hold each weight twice.
        return cast(TrainableModel, self.model)

    def setup(self, stage: str) -> None:
        if self.compile_model and self._compiled_loss is None:
            # Compiled once the module is on its device; evaluations use the model as is.
            compiled: Any = torch.compile(self.trainable.compute_loss)
            self._compiled_loss = compiled

    def train_dataloader(self) -> TensorBatches | DataLoader[Sample]:
        split = self.data[TRAIN]
        tensors = tensors_of(split) if self.fast_loading else None
        if tensors is None:
            return DataLoader(
                split,
                batch_size=self.batch_size,
                shuffle=True,
                num_workers=self.num_workers,
                pin_memory=self.pin_memory,
                persistent_workers=self.num_workers > 0,
            )
        num_replicas, rank = _shard(self._trainer)
        size = len(next(iter(tensors.values())))
        sampler = IndexBatchSampler(
            size,
            self.batch_size,
            shuffle=True,
            seed=self._shuffle_seed(),
            num_replicas=num_replicas,
            rank=rank,
        )
        return TensorBatches(tensors, sampler, device=self.device if self.data_on_device else None)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        compute_loss = self._compiled_loss or self.trainable.compute_loss
        losses = compute_loss(batch)
        # One number read per step: a host sync on a GPU (as any check before the update
        # is), and a fifth of the time of `bool(torch.isfinite(loss))` on a CPU.
        if not math.isfinite(losses["loss"].detach().item()):
            self.log_losses(losses)  # raises NonFiniteLossError, naming the bad components
        self.counters["iteration"] += 1
        self._step_losses = losses
        return losses["loss"]

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        # Logged only on the steps Lightning writes to the loggers (every
        # `trainer.log_every_n_steps`, and the last): each `self.log` costs about as much as
        # a small model's whole step, and values logged in between are never written.
        # Lightning calls this after every callback's `on_train_batch_end`, so a stop decided
        # there (train_for) is already known and the last step is logged too.
        losses, self._step_losses = self._step_losses, None
        if losses is None or not self._writes_logs_now():
            return
        self.log_losses(losses)

    def _writes_logs_now(self) -> bool:
        trainer = self.trainer
        fast_dev_run = getattr(trainer, "fast_dev_run", False)  # set by Trainer.__init__
        return should_update_logs(trainer) or bool(fast_dev_run)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)

    def _shuffle_seed(self) -> int:
        # The run's seed (seed_everything seeds torch with it), taken from global rank zero
        # so every DDP process draws the same order even if one was seeded differently.
        seed = torch.initial_seed() % 2**63
        if self._trainer is None:
            return seed
        return int(self._trainer.strategy.broadcast(seed))


def _shard(trainer: Trainer | None) -> tuple[int, int]:
    """``(num_replicas, rank)`` of this process's shard: ``(1, 0)`` unless under DDP."""
    if trainer is None:
        return 1, 0
    # The same decision Lightning takes before it puts a DistributedSampler in a DataLoader.
    if not uses_distributed_sampler(trainer):
        return 1, 0
    kwargs = trainer.distributed_sampler_kwargs
    if not kwargs:
        return 1, 0
    return int(kwargs["num_replicas"]), int(kwargs["rank"])
