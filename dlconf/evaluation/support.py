"""What the evaluators share: reading splits in batches, naming them, checking arguments.

Kept apart so each evaluator module holds only its own math.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from typing import Final, cast

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from dlconf.data import TEST, TRAIN, VALID, Batch, DataSplits
from dlconf.errors import close_matches

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
