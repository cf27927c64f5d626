"""Classification accuracy of a predictive model on the first samples of splits.

Logged as ``<name>/Train`` and ``<name>/Validation`` (e.g. ``Accuracy/Validation``): the
fraction of examples whose most probable label under ``model.predict(x)`` is ``y``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.distributions import Distribution

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
from dlconf.models.protocols import PredictiveModel
from dlconf.optimization.base import Optimization


class AccuracyEvaluation(Evaluation):
    """Fraction of the first ``n_samples`` of each split whose arg-max prediction is ``y``.

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
        check_count("AccuracyEvaluation", "n_samples", n_samples)
        check_count("AccuracyEvaluation", "batch_size", batch_size)
        self.n_samples = n_samples
        self.evaluate_on = check_splits("AccuracyEvaluation", evaluate_on)
        self.batch_size = batch_size

    def evaluate(self, optimization: Optimization) -> ScalarsEntry:
        model = optimization.model
        if not isinstance(model, PredictiveModel):
            raise missing_ability("AccuracyEvaluation", model, "PredictiveModel", "predict(x)")
        return ScalarsEntry(
            {
                split_label(split): self._accuracy(model, optimization, split)
                for split in self.evaluate_on
            }
        )

    def _accuracy(self, model: PredictiveModel, optimization: Optimization, split: str) -> float:
        correct, count = 0, 0
        with torch.no_grad():
            for batch in first_batches(
                optimization.data, split, self.n_samples, self.batch_size, optimization.device
            ):
                y = batch["y"]  # (B,)
                predicted = predicted_labels(model.predict(batch["x"]), y)  # (B,)
                correct += int((predicted == y).sum())
                count += y.shape[0]
        if count == 0:
            raise ValueError(f"AccuracyEvaluation: split {split!r} is empty")
        return correct / count


def predicted_labels(prediction: Distribution, y: Tensor) -> Tensor:
    """The most probable label per example, ``(B,)``, from a categorical ``(B, K)`` prediction."""
    # Both rank labels alike; a distribution that has only one (a custom one) still works.
    scores = getattr(prediction, "logits", None)
    if scores is None:
        scores = getattr(prediction, "probs", None)
    if not isinstance(scores, Tensor) or scores.shape[:-1] != y.shape:
        shape = None if not isinstance(scores, Tensor) else tuple(scores.shape)
        raise TypeError(
            "AccuracyEvaluation needs predict(x) to return a categorical distribution with "
            f"logits or probs of shape (B, K) for labels of shape {tuple(y.shape)}; got "
            f"{type(prediction).__name__} with scores of shape {shape}"
        )
    return scores.argmax(dim=-1)
