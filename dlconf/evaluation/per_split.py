"""The shape ELBO and accuracy share: a per-example value, averaged over splits.

An evaluation of this kind reads the first ``n_samples`` of each split in ``evaluate_on``
(the same examples every time, so a curve moves only because the model does), averages a
per-example value, and reports one number per split: ``<name>/Train``, ``<name>/Validation``.

Under DDP every process computes a share of the batches and the sums and counts are added
across processes (:class:`~dlconf.evaluation.support.Shard`), so N processes evaluate about
N times faster and report what one process would. For that, a batch is the same whichever
process computes it: the batches are cut the same way (``batch_size`` examples, numbered
across the splits), and a model that draws random numbers (the VAE's ``elbo`` samples z)
draws them from a generator seeded with the batch's number, in a forked random state, so
the training's random numbers are left as they were. The same noise every time is also
what keeps a curve moving only because the model does.
"""

# No `from __future__ import annotations` here: hydra-zen's pydantic parser reads the
# inherited __init__'s annotations in the subclass's module, where `Sequence` is unknown.
from abc import abstractmethod
from collections.abc import Generator, Sequence, Sized
from contextlib import contextmanager
from typing import ClassVar, Generic, TypeVar, cast

import torch
from torch import Tensor

from dlconf.data import TRAIN, VALID, Batch, Split
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.entries import ScalarsEntry
from dlconf.evaluation.support import (
    Shard,
    check_count,
    check_splits,
    data_split,
    examples,
    split_label,
)
from dlconf.optimization.base import Optimization

M = TypeVar("M")


class PerSplitMean(Evaluation[M], Generic[M]):
    """Mean of :meth:`per_example` over the first ``n_samples`` of each split.

    Args:
        n_samples: examples per split (fewer if the split is smaller).
        evaluate_on: split names, e.g. ``("train", "valid")``.
        batch_size: examples per forward pass; memory, not the result, depends on it.
    """

    higher_is_better: ClassVar[bool] = True
    """Whether a larger mean is better (ELBO, accuracy); a metric of it is maximized then."""

    def __init__(
        self,
        n_samples: int = 2048,
        evaluate_on: Sequence[Split] = (TRAIN, VALID),
        batch_size: int = 512,
    ) -> None:
        name = type(self).__name__
        check_count(name, "n_samples", n_samples)
        check_count(name, "batch_size", batch_size)
        self.n_samples = n_samples
        self.evaluate_on = check_splits(name, evaluate_on)
        self.batch_size = batch_size

    @abstractmethod
    def per_example(self, model: M, batch: Batch) -> Tensor:
        """The value for each example of ``batch``: shape ``(B,)``."""

    def evaluate(self, optimization: Optimization) -> ScalarsEntry:
        return self.evaluate_shard(optimization, Shard())

    def evaluate_shard(self, optimization: Optimization, shard: Shard) -> ScalarsEntry:
        """The means over every process's part, on each process (see the module docstring)."""
        model = optimization.model
        problem = self.missing_ability(model)
        if problem is not None:
            raise TypeError(problem)
        device = optimization.device
        batches = self._batches(optimization)
        totals = torch.zeros(len(self.evaluate_on), 2, dtype=torch.float64, device=device)
        with torch.no_grad(), _own_random_numbers(device):
            for number in shard.part(len(batches)):
                position, start, stop = batches[number]
                torch.manual_seed(number)  # pyright: ignore[reportUnknownMemberType]
                dataset = optimization.data[self.evaluate_on[position]]
                values = self.per_example(cast(M, model), examples(dataset, start, stop, device))
                totals[position, 0] += values.sum(dtype=torch.float64)  # (B,) summed
                totals[position, 1] += values.shape[0]
        # Summed then divided, so a short last batch weighs per example, not per batch.
        sums, counts = shard.sum(totals).unbind(dim=1)  # (splits,) each
        means = [float(mean) for mean in sums / counts]
        return ScalarsEntry(
            {split_label(split): mean for split, mean in zip(self.evaluate_on, means, strict=True)}
        )

    def _batches(self, optimization: Optimization) -> list[tuple[int, int, int]]:
        """(split position, start, stop) of every batch, splits in ``evaluate_on`` order."""
        batches: list[tuple[int, int, int]] = []
        for position, split in enumerate(self.evaluate_on):
            count = min(self.n_samples, len(cast(Sized, data_split(optimization.data, split))))
            if count == 0:
                raise ValueError(f"{type(self).__name__}: split {split!r} is empty")
            batches += [
                (position, start, min(start + self.batch_size, count))
                for start in range(0, count, self.batch_size)
            ]
        return batches


@contextmanager
def _own_random_numbers(device: torch.device) -> Generator[None, None, None]:
    """Random numbers drawn in the block leave the CPU's and ``device``'s generators as they
    were. (``torch.manual_seed`` in the block also seeds other GPUs' generators: under DDP
    those belong to GPUs this process does not use.)"""
    if device.type == "cpu":
        with torch.random.fork_rng(devices=[]):  # pyright: ignore[reportUnknownMemberType]
            yield
        return
    index = cast("int | None", device.index)  # None for a bare "cuda": the current device
    if index is None:
        index = torch.cuda.current_device() if device.type == "cuda" else 0
    with torch.random.fork_rng(  # pyright: ignore[reportUnknownMemberType]
        devices=[index], device_type=device.type
    ):
        yield
