"""What the evaluators share: reading splits in batches, sharing the work between processes,
naming splits, checking arguments.

Kept apart so each evaluator module holds only its own math.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol, cast, runtime_checkable

import torch
from torch import Tensor, nn
from torch.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    default_collate,  # pyright: ignore[reportUnknownVariableType]
)

from dlconf.data import TEST, TRAIN, VALID, Batch, DataSplits, Sample
from dlconf.errors import close_matches
from dlconf.loading import tensors_of

if TYPE_CHECKING:
    from dlconf.evaluation.entries import LogEntry
    from dlconf.optimization.base import Optimization

SPLIT_LABELS: Final[dict[str, str]] = {TRAIN: "Train", VALID: "Validation", TEST: "Test"}
"""How a split reads in the logs (``ELBO/Validation``); other split names read as written."""


def split_label(split: str) -> str:
    """The name a split's number is logged under: ``"valid"`` -> ``"Validation"``."""
    return SPLIT_LABELS.get(split, split)


def first_batches(
    data: DataSplits, split: str, n_samples: int, batch_size: int, device: torch.device
) -> Iterator[Batch]:
    """The first ``n_samples`` of ``split`` (all of it if smaller), in order, on ``device``.

    Always the same examples, so a metric moves because the model changed, not the sample.
    """
    dataset = data_split(data, split)
    count = min(n_samples, len(cast(Sized, dataset)))
    loader = DataLoader(Subset(dataset, range(count)), batch_size=batch_size, shuffle=False)
    for batch in loader:
        yield {key: value.to(device) for key, value in batch.items()}


def examples(dataset: Dataset[Sample], start: int, stop: int, device: torch.device) -> Batch:
    """Examples ``start`` to ``stop - 1`` of ``dataset`` as one batch on ``device``.

    A tensor-backed split (:class:`~dlconf.loading.TensorBacked`) is sliced, others are read
    sample by sample and collated; both give the same batch.
    """
    tensors = tensors_of(dataset)
    if tensors is None:
        collate = cast(Callable[[list[Sample]], Batch], default_collate)  # untyped in torch
        batch = collate([dataset[i] for i in range(start, stop)])
    else:
        batch = {key: value[start:stop] for key, value in tensors.items()}
    return {key: value.to(device) for key, value in batch.items()}


def _alone(tensor: Tensor) -> Tensor:
    return tensor


@dataclass(frozen=True)
class Shard:
    """Which part of an evaluation this process computes, and how the parts are summed.

    One process (``Shard()``) computes everything. Under DDP the evaluation callback gives
    each process its ``rank`` of ``world_size`` and ``sum``, an all-reduce over the
    processes (torchmetrics' ``dist_reduce_fx="sum"``): each computes partial sums over its
    part, and ``sum`` turns them into the totals, the same on every process.
    """

    rank: int = 0
    world_size: int = 1
    sum: Callable[[Tensor], Tensor] = _alone
    """Adds a tensor of partial sums over every process; the result has the same shape."""

    def __post_init__(self) -> None:
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"Shard(rank={self.rank}, world_size={self.world_size}) is no rank")

    def part(self, count: int) -> range:
        """This process's contiguous share of ``range(count)``; shares differ by at most one."""
        rank, world = self.rank, self.world_size
        return range(rank * count // world, (rank + 1) * count // world)


@runtime_checkable
class ShardedEvaluation(Protocol):
    """An evaluation whose processes each compute a part (:class:`Shard`) of one result.

    ``evaluate_shard`` runs on every process, and returns on each the same entry as
    ``evaluate`` would on one process; the evaluation callback runs the other evaluations on
    global rank zero only.
    """

    def evaluate_shard(self, optimization: Optimization, shard: Shard) -> LogEntry: ...


def data_split(data: DataSplits, split: str) -> torch.utils.data.Dataset[dict[str, torch.Tensor]]:
    """``data[split]``, or a ValueError listing the splits there are."""
    if split not in data:
        raise ValueError(
            f"evaluate_on={split!r} names no data split{close_matches(split, data)}; "
            f"splits: {', '.join(data)}"
        )
    return data[split]


def missing_ability(evaluator: str, model: nn.Module, ability: str, method: str) -> TypeError:
    """The error for a model that lacks what an evaluator needs, naming all three."""
    return TypeError(
        f"{evaluator} needs a {ability}, a model with {method}; "
        f"{type(model).__name__} has no {method.split('(')[0]}() method"
    )


def check_count(evaluator: str, argument: str, value: int) -> None:
    """A positive whole number, e.g. ``n_samples``; the message quotes the bad value."""
    if value < 1:
        raise ValueError(f"{evaluator}({argument}={value!r}) must be a whole number >= 1")


def check_splits(evaluator: str, splits: Sequence[str]) -> tuple[str, ...]:
    """A non-empty list of distinct split names; a bare string is a mistake, not a list."""
    if isinstance(splits, str):
        raise ValueError(
            f"{evaluator}(evaluate_on={splits!r}) must be a list of split names, "
            f"e.g. evaluate_on=[{splits!r}]"
        )
    names = tuple(splits)
    if not names or len(set(names)) != len(names):
        raise ValueError(
            f"{evaluator}(evaluate_on={list(names)!r}) must name at least one split, "
            "each once, e.g. evaluate_on=['train', 'valid']"
        )
    return names
