"""The evidence lower bound of a likelihood model, averaged over the first samples of splits.

Logged as ``<name>/Train`` and ``<name>/Validation`` (e.g. ``ELBO/Validation``): the same
``n_samples`` examples every time, so the curve moves only because the model does.
"""

from __future__ import annotations

from torch import Tensor

from dlconf.data import Batch
from dlconf.evaluation.per_split import PerSplitMean
from dlconf.models.protocols import LikelihoodModel


class ELBOEvaluation(PerSplitMean[LikelihoodModel]):
    """Mean ``model.elbo(x)`` over the first ``n_samples`` of each split in ``evaluate_on``."""

    ability = LikelihoodModel
    ability_method = "elbo(x)"

    def per_example(self, model: LikelihoodModel, batch: Batch) -> Tensor:
        return model.elbo(batch["x"])  # (B,)
