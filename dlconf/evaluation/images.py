"""Pictures of what a model generates and how it reconstructs: image grids for the logs.

:class:`ImageSampleEvaluation` draws from a generative model (one row of samples);
:class:`ImageReconstructionEvaluation` shows the first pictures of a split on top and the
model's reconstructions of them below. Both return an :class:`ImageEntry` in [0, 1].
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchvision.utils import make_grid

from dlconf.data import VALID, Split
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.entries import ImageEntry
from dlconf.evaluation.support import check_count, first_batches, missing_ability
from dlconf.models.protocols import GenerativeModel, ReconstructingModel
from dlconf.optimization.base import Optimization


class ImageSampleEvaluation(Evaluation[GenerativeModel]):
    """A row of ``n_pictures`` images sampled from a :class:`GenerativeModel`.

    Args:
        n_pictures: how many samples to draw and show side by side.
    """

    ability = GenerativeModel
    ability_method = "sample(sample_shape)"

    def __init__(self, n_pictures: int = 10) -> None:
        check_count("ImageSampleEvaluation", "n_pictures", n_pictures)
        self.n_pictures = n_pictures

    def evaluate(self, optimization: Optimization) -> ImageEntry:
        model = optimization.model
        if not isinstance(model, GenerativeModel):
            raise missing_ability(
                "ImageSampleEvaluation", model, "GenerativeModel", "sample(sample_shape)"
            )
        with torch.no_grad():
            samples = model.sample(torch.Size([self.n_pictures]))  # (N, C, H, W)
        return ImageEntry(image_grid(samples, nrow=self.n_pictures))


class ImageReconstructionEvaluation(Evaluation[ReconstructingModel]):
    """The first ``n_pictures`` of a split (top row) and their reconstructions (bottom row).

    Args:
        n_pictures: how many pictures to show (fewer if the split is smaller).
        evaluate_on: the split to take them from, e.g. ``"valid"``.
    """

    ability = ReconstructingModel
    ability_method = "reconstruct(x)"

    def __init__(self, n_pictures: int = 10, evaluate_on: Split = VALID) -> None:
        check_count("ImageReconstructionEvaluation", "n_pictures", n_pictures)
        if not evaluate_on:
            raise ValueError(
                f"ImageReconstructionEvaluation(evaluate_on={evaluate_on!r}) must name a "
                "split, e.g. evaluate_on='valid'"
            )
        self.n_pictures = n_pictures
        self.evaluate_on = evaluate_on

    def evaluate(self, optimization: Optimization) -> ImageEntry:
        model = optimization.model
        if not isinstance(model, ReconstructingModel):
            raise missing_ability(
                "ImageReconstructionEvaluation", model, "ReconstructingModel", "reconstruct(x)"
            )
        batch = next(
            first_batches(
                optimization.data,
                self.evaluate_on,
                self.n_pictures,
                self.n_pictures,
                optimization.device,
            )
        )
        originals = batch["x"]  # (N, C, H, W)
        with torch.no_grad():
            reconstructions = model.reconstruct(originals).reshape(originals.shape)
        pictures = torch.cat([originals, reconstructions])  # (2N, C, H, W)
        return ImageEntry(image_grid(pictures, nrow=originals.shape[0]))


def image_grid(images: Tensor, nrow: int) -> Tensor:
    """A ``(3, H', W')`` grid in [0, 1] on the CPU, ``nrow`` images per row.

    ``images`` is ``(N, C, H, W)``, or ``(N, H, W)`` for single-channel pictures.
    """
    if images.dim() == 3:
        images = images.unsqueeze(1)  # (N, 1, H, W)
    if images.dim() != 4:
        raise ValueError(
            f"cannot draw images of shape {tuple(images.shape)}: expected (N, C, H, W) or (N, H, W)"
        )
    # Clamped because decoder means (e.g. a Gaussian's) may leave [0, 1] slightly.
    grid: Tensor = make_grid(images.detach().float().cpu().clamp(0.0, 1.0), nrow=nrow)
    return grid
