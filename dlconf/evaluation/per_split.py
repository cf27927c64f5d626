"""The shape ELBO and accuracy share: a per-example value, averaged over splits.

An evaluation of this kind reads the first ``n_samples`` of each split in ``evaluate_on``
(the same examples every time, so a curve moves only because the model does), averages a
per-example value, and reports one number per split: ``<name>/Train``, ``<name>/Validation``.
"""

# No `from __future__ import annotations` here: hydra-zen's pydantic parser reads the
# inherited __init__'s annotations in the subclass's module, where `Sequence` is unknown.
from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar, cast

import torch
from torch import Tensor

from dlconf.data import TRAIN, VALID, Batch, Split
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.entries import ScalarsEntry
from dlconf.evaluation.support import (
    check_count,
    check_splits,
    first_batches,
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
        model = optimization.model
        problem = self.missing_ability(model)
        if problem is not None:
            raise TypeError(problem)
        return ScalarsEntry(
            {
                split_label(split): self._mean(cast(M, model), optimization, split)
                for split in self.evaluate_on
            }
        )

    def _mean(self, model: M, optimization: Optimization, split: str) -> float:
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in first_batches(
                optimization.data, split, self.n_samples, self.batch_size, optimization.device
            ):
                values = self.per_example(model, batch)  # (B,)
                total += float(values.sum())
                count += values.shape[0]
        if count == 0:
            raise ValueError(f"{type(self).__name__}: split {split!r} is empty")
        # Summed then divided, so a short last batch weighs per example, not per batch.
        return total / count
