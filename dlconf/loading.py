"""Batches of in-memory data sets, taken by index: no per-sample ``__getitem__``, no collate.

MNIST-sized data sets fit in memory. A split that holds its fields as whole tensors says so
by implementing :class:`TensorBacked`; it is then batched by indexing those tensors with one
index tensor per batch, which costs one ``index_select`` per field instead of ``batch_size``
calls to ``__getitem__`` and a collate that stacks them again::

    batches = TensorBatches(split.tensors(), IndexBatchSampler(len(split), batch_size=128))
    for batch in batches:  # {"x": (128, 1, 28, 28), "y": (128,)}
        ...

Order. Epoch ``e`` is one random permutation drawn from a ``torch.Generator`` seeded with
``seed + e`` (as :class:`~torch.utils.data.distributed.DistributedSampler` does), so a run is
the same for the same seed and every epoch differs. Lightning calls ``sampler.set_epoch`` at
each epoch start, as it does for a ``DataLoader``'s sampler, and saves
:meth:`TensorBatches.state_dict` in checkpoints: a run resumed mid-epoch continues that
epoch's order after the last batch it trained on, exactly as if it had never stopped.

Distributed training. With ``num_replicas`` processes, every process draws the same
permutation, pads it by repeating its start to a multiple of ``num_replicas``, and takes every
``num_replicas``-th index from its ``rank`` on: the shards are disjoint (up to the padding),
cover the split, and hold the same number of batches on every process, so no process waits
for a step the others do not take. This is what Lightning's ``DistributedSampler`` does for a
``DataLoader`` when ``Trainer(use_distributed_sampler=True)`` (the default).

Device. Batches are taken on the device the tensors are on: move the tensors to the GPU
once (``TensorBatches(..., device=...)``) and no batch crosses the PCIe bus again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from dlconf.data import Batch

__all__ = ["IndexBatchSampler", "TensorBacked", "TensorBatches", "tensors_of"]


@runtime_checkable
class TensorBacked(Protocol):
    """A data set held in memory as one tensor per field, all with the same first dimension.

    ``tensors()`` returns them by field name, e.g. ``{"x": (N, 1, 28, 28), "y": (N,)}``, such
    that ``dataset[i]`` equals ``{name: tensor[i] for name, tensor in tensors().items()}``.
    The tensors are read, never modified.
    """

    def tensors(self) -> Mapping[str, Tensor]: ...


def tensors_of(dataset: object) -> dict[str, Tensor] | None:
    """``dataset.tensors()`` when ``dataset`` is :class:`TensorBacked`, else ``None``.

    Raises ValueError when the tensors disagree on the number of examples, or there are none:
    batching them by index would silently pair wrong fields.
    """
    if not isinstance(dataset, TensorBacked):
        return None
    tensors = dict(dataset.tensors())
    sizes = {name: len(tensor) for name, tensor in tensors.items()}
    if not sizes:
        raise ValueError(f"{type(dataset).__name__}.tensors() returned no tensors")
    if len(set(sizes.values())) != 1:
        raise ValueError(
            f"{type(dataset).__name__}.tensors() must give every field the same number of "
            f"examples, got {sizes}"
        )
    return tensors


class IndexBatchSampler:
    """Batches of indices into ``size`` examples: one ``(B,)`` long tensor per batch.

    Args:
        size: number of examples in the split.
        batch_size: examples per batch; the last batch of an epoch may be smaller unless
            ``drop_last``.
        shuffle: a new random order every epoch (else ``0, 1, 2, ...``).
        seed: the base seed of the order; epoch ``e`` uses ``seed + e``.
        drop_last: leave out the last, smaller batch of each epoch.
        num_replicas: processes that share the split (the DDP world size).
        rank: this process's index among them.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if size < 1:
            raise ValueError(f"IndexBatchSampler(size={size}) needs at least one example")
        if batch_size < 1:
            raise ValueError(f"IndexBatchSampler(batch_size={batch_size}) must be >= 1")
        if num_replicas < 1:
            raise ValueError(f"IndexBatchSampler(num_replicas={num_replicas}) must be >= 1")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"IndexBatchSampler(rank={rank}) must be in [0, num_replicas={num_replicas})"
            )
        self.size = size
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.num_replicas = num_replicas
        self.rank = rank
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """The epoch whose order the next iteration yields."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order from the next iteration on; Lightning calls this."""
        self._epoch = epoch

    @property
    def shard_size(self) -> int:
        """Examples this process sees per epoch: ``ceil(size / num_replicas)``."""
        return -(-self.size // self.num_replicas)

    def __len__(self) -> int:
        if self.drop_last:
            return self.shard_size // self.batch_size
        return -(-self.shard_size // self.batch_size)

    def indices(self) -> Tensor:
        """This process's indices for the current epoch, in order: ``(shard_size,)`` long."""
        if self.shuffle:
            # Seeded per epoch, not advanced from epoch to epoch: a resumed run draws the
            # same order for the epoch it resumes in.
            generator = torch.Generator().manual_seed((self.seed + self._epoch) % 2**63)
            order = torch.randperm(self.size, generator=generator)  # (size,)
        else:
            order = torch.arange(self.size)  # (size,)
        padding = self.shard_size * self.num_replicas - self.size
        if padding:
            # Repeats the start of the order (more than once only when size < num_replicas).
            order = torch.cat([order, order.repeat(-(-padding // self.size))[:padding]])
        return order[self.rank :: self.num_replicas]

    def split(self, indices: Tensor) -> tuple[Tensor, ...]:
        """``indices`` (from :meth:`indices`, on any device) cut into this epoch's batches."""
        # Views of one tensor: a batch costs no Python list and no per-index work.
        return torch.split(indices[: len(self) * self.batch_size], self.batch_size)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(self.split(self.indices()))


class TensorBatches:
    """Dict batches ``{name: tensor[indices]}`` of in-memory tensors, one per index batch.

    An iterable Lightning accepts wherever a ``DataLoader`` goes (it has a ``len``, and its
    ``sampler.set_epoch`` is called at every epoch start).

    Args:
        tensors: the split's fields, e.g. ``{"x": (N, 1, 28, 28), "y": (N,)}``.
        sampler: which indices make up each batch.
        device: where to keep the tensors (and so take the batches); ``None`` leaves them
            where they are. A GPU here holds the whole split in GPU memory.
    """

    def __init__(
        self,
        tensors: Mapping[str, Tensor],
        sampler: IndexBatchSampler,
        device: torch.device | str | None = None,
    ) -> None:
        sizes = {len(tensor) for tensor in tensors.values()}
        if sizes != {sampler.size}:
            raise ValueError(
                f"TensorBatches: the tensors hold {sorted(sizes)} examples, the sampler "
                f"indexes {sampler.size}"
            )
        self.device = None if device is None else torch.device(device)
        self.tensors: dict[str, Tensor] = {
            name: tensor if self.device is None else tensor.to(self.device)
            for name, tensor in tensors.items()
        }
        self.sampler = sampler
        self._epoch = sampler.epoch  # the epoch being (or last) iterated
        self._yielded = 0  # batches of it handed out so far
        self._resume_at: tuple[int, int] | None = None  # (epoch, batch) to continue from

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[Batch]:
        # A generator: the epoch is read on the first `next`, after Lightning's `set_epoch`.
        epoch, start = self.sampler.epoch, 0
        if self._resume_at is not None and self._resume_at[0] == epoch:
            start = self._resume_at[1]
        self._resume_at = None
        self._epoch, self._yielded = epoch, start
        indices = self.sampler.indices()
        if self.device is not None:
            # One copy of the epoch's indices to the device, not one per batch.
            indices = indices.to(self.device, non_blocking=True)
        for batch_indices in self.sampler.split(indices)[start:]:
            self._yielded += 1  # counted before the yield: a checkpoint then sees this batch
            yield {
                name: tensor.index_select(0, batch_indices) for name, tensor in self.tensors.items()
            }

    def state_dict(self) -> dict[str, int]:
        """Where the current epoch is: Lightning saves it in checkpoints."""
        return {"epoch": self._epoch, "batches": self._yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue a resumed run's epoch after the batches it had already trained on.

        Applies when the next iteration is of the same epoch (a run stopped mid-epoch);
        a run saved at the end of an epoch starts the next one from its first batch.
        """
        self._resume_at = (int(state["epoch"]), int(state["batches"]))
