"""The evidence lower bound of a likelihood model, averaged over the first samples of splits.

Logged as ``<name>/Train`` and ``<name>/Validation`` (e.g. ``ELBO/Validation``): the same
``n_samples`` examples every time, so the curve moves only because the model does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dlconf.data import TRAIN, VALID
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.entries import ScalarsEntry
from dlconf.evaluation.support import (
    check_count,
    check_splits,
    first_batches,
    missing_ability,
    split_label,
)
from dlconf.models.protocols import LikelihoodModel
from dlconf.optimization.base import Optimization


class ELBOEvaluation(Evaluation):
    """Mean ``model.elbo(x)`` over the first ``n_samples`` of each split in ``evaluate_on``.

    Args:
        n_samples: examples per split (fewer if the split is smaller).
        evaluate_on: split names, e.g. ``("train", "valid")``.
        batch_size: examples per forward pass; memory, not the result, depends on it.
    """

    def __init__(
        self,
        n_samples: int = 2048,
        evaluate_on: Sequence[str] = (TRAIN, VALID),
        batch_size: int = 512,
    ) -> None:
        check_count("ELBOEvaluation", "n_samples", n_samples)
        check_count("ELBOEvaluation", "batch_size", batch_size)
        self.n_samples = n_samples
        self.evaluate_on = check_splits("ELBOEvaluation", evaluate_on)
        self.batch_size = batch_size

    def evaluate(self, optimization: Optimization) -> ScalarsEntry:
        model = optimization.model
        if not isinstance(model, LikelihoodModel):
            raise missing_ability("ELBOEvaluation", model, "LikelihoodModel", "elbo(x)")
        return ScalarsEntry(
            {
                split_label(split): self._mean_elbo(model, optimization, split)
                for split in self.evaluate_on
            }
        )

    def _mean_elbo(self, model: LikelihoodModel, optimization: Optimization, split: str) -> float:
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in first_batches(
                optimization.data, split, self.n_samples, self.batch_size, optimization.device
            ):
                elbo = model.elbo(batch["x"])  # (B,)
                total += float(elbo.sum())
                count += elbo.shape[0]
        if count == 0:
            raise ValueError(f"ELBOEvaluation: split {split!r} is empty")
        # Summed then divided, so a short last batch weighs per example, not per batch.
        return total / count
