"""Classification accuracy of a predictive model on the first samples of splits.

Logged as ``<name>/Train`` and ``<name>/Validation`` (e.g. ``Accuracy/Validation``): the
fraction of examples whose most probable label under ``model.predict(x)`` is ``y``.
"""

from __future__ import annotations

from torch import Tensor
from torch.distributions import Distribution

from dlconf.data import Batch
from dlconf.evaluation.per_split import PerSplitMean
from dlconf.models.protocols import PredictiveModel


class AccuracyEvaluation(PerSplitMean[PredictiveModel]):
    """Fraction of the first ``n_samples`` of each split whose arg-max prediction is ``y``."""

    ability = PredictiveModel
    ability_method = "predict(x)"

    def per_example(self, model: PredictiveModel, batch: Batch) -> Tensor:
        y = batch["y"]  # (B,)
        return (predicted_labels(model.predict(batch["x"]), y) == y).float()  # (B,)


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
