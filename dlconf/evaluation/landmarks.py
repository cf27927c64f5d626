"""Landmarks predicted on images: a picture of them, and their mean error in pixels.

For data sets whose targets ``y`` are ``K`` points ``(x_1, y_1, ..., x_K, y_K)`` in the
pixels of the images ``x`` ``(C, H, W)`` (CelebA's eyes, nose and mouth corners, K = 5), and
models whose ``predict(x)`` is a distribution over ``y`` (a normal, say).

:class:`LandmarkImageEvaluation` draws the first pictures of a split with the true points in
one colour and the predicted ones (the prediction's mean) in another; :class:`LandmarkError
Evaluation` logs the mean distance between them, ``<name>/Train`` and ``<name>/Validation``.
"""

# No `from __future__ import annotations` in a module with a PerSplitMean subclass: see
# per_split.py (hydra-zen's pydantic parser reads the inherited annotations here).
from collections.abc import Sequence
from typing import Protocol, cast, runtime_checkable

import torch
from torch import Tensor
from torch.distributions import Distribution
from torchvision.utils import draw_keypoints

from dlconf.data import VALID, Batch, Split
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.entries import ImageEntry
from dlconf.evaluation.images import image_grid
from dlconf.evaluation.per_split import PerSplitMean
from dlconf.evaluation.support import check_count, first_batches, missing_ability
from dlconf.models.protocols import PredictiveModel
from dlconf.optimization.base import Optimization

TRUE_COLOUR = "#00ff00"
PREDICTED_COLOUR = "#ff0000"


@runtime_checkable
class LatentSamplingModel(Protocol):
    """A predictive model that can also predict from a sampled representation (a VIB)."""

    def predict(self, x: Tensor, sample_latents: bool = ...) -> Distribution: ...


def points(landmarks: Tensor) -> Tensor:
    """``(B, 2K)`` coordinates as ``(B, K, 2)`` points ``(x, y)``."""
    if landmarks.dim() != 2 or landmarks.shape[-1] % 2:
        raise ValueError(
            f"landmarks must be (B, 2K) coordinates x_1, y_1, ..., got shape "
            f"{tuple(landmarks.shape)}"
        )
    return landmarks.reshape(landmarks.shape[0], -1, 2)


def predicted_landmarks(prediction: Distribution, y: Tensor, evaluator: str) -> Tensor:
    """The prediction's mean, ``(B, 2K)``, checked against the shape of the true ``y``."""
    mean: Tensor = prediction.mean
    if mean.shape != y.shape:
        raise TypeError(
            f"{evaluator} needs predict(x) to be a distribution over landmarks of shape "
            f"{tuple(y.shape)}; got {type(prediction).__name__} with mean of shape "
            f"{tuple(mean.shape)}"
        )
    return mean


class LandmarkErrorEvaluation(PerSplitMean[PredictiveModel]):
    """Mean distance in pixels between predicted and true points, per example and split."""

    ability = PredictiveModel
    ability_method = "predict(x)"
    higher_is_better = False  # an error: a checkpoint or sweep on it minimizes

    def per_example(self, model: PredictiveModel, batch: Batch) -> Tensor:
        y = batch["y"].float()  # (B, 2K)
        predicted = predicted_landmarks(model.predict(batch["x"]), y, type(self).__name__)
        distances = (points(predicted) - points(y)).square().sum(dim=-1).sqrt()  # (B, K)
        return distances.mean(dim=-1)  # (B,)


class LandmarkImageEvaluation(Evaluation):
    """A row of the first ``n_pictures`` of a split, true points green, predicted red.

    Args:
        n_pictures: how many pictures to show (fewer if the split is smaller).
        evaluate_on: the split to take them from, e.g. ``"valid"``.
        padding: ``[x, y]`` pixels added to every coordinate before drawing, for images
            padded after their landmarks were measured (the seed padded CelebA's 178 columns
            to 218: ``[20, 0]``); ``[0, 0]`` when the points are in the images' own pixels.
        sample_latents: predict from a sampled representation rather than its mean (needs
            ``predict(x, sample_latents=True)``, as the VIB has).
        radius: of the drawn points, in pixels.
    """

    ability = PredictiveModel
    ability_method = "predict(x)"

    def __init__(
        self,
        n_pictures: int = 10,
        evaluate_on: Split = VALID,
        padding: Sequence[int] = (0, 0),
        sample_latents: bool = False,
        radius: int = 2,
    ) -> None:
        check_count("LandmarkImageEvaluation", "n_pictures", n_pictures)
        check_count("LandmarkImageEvaluation", "radius", radius)
        if len(padding) != 2:
            raise ValueError(
                f"LandmarkImageEvaluation(padding={list(padding)!r}) must be [x, y], e.g. [20, 0]"
            )
        self.n_pictures = n_pictures
        self.evaluate_on = evaluate_on
        self.padding = (int(padding[0]), int(padding[1]))
        self.sample_latents = sample_latents
        self.radius = radius

    def evaluate(self, optimization: Optimization) -> ImageEntry:
        model = optimization.model
        if self.sample_latents and not isinstance(model, LatentSamplingModel):
            raise missing_ability(
                "LandmarkImageEvaluation(sample_latents=True)",
                model,
                "LatentSamplingModel",
                "predict(x, sample_latents)",
            )
        if not isinstance(model, PredictiveModel):
            raise missing_ability("LandmarkImageEvaluation", model, "PredictiveModel", "predict(x)")
        batch = next(
            first_batches(
                optimization.data,
                self.evaluate_on,
                self.n_pictures,
                self.n_pictures,
                optimization.device,
            )
        )
        x, y = batch["x"], batch["y"].float()  # (N, C, H, W), (N, 2K)
        with torch.no_grad():
            prediction = self._predict(optimization.model, x)
        predicted = predicted_landmarks(prediction, y, "LandmarkImageEvaluation")
        pictures = draw_landmarks(x, y, predicted, self.padding, self.radius)
        return ImageEntry(image_grid(pictures, nrow=len(pictures)))

    def _predict(self, model: object, x: Tensor) -> Distribution:
        if self.sample_latents:
            return cast(LatentSamplingModel, model).predict(x, sample_latents=True)
        return cast(PredictiveModel, model).predict(x)


def draw_landmarks(
    images: Tensor,
    true: Tensor,
    predicted: Tensor,
    padding: tuple[int, int] = (0, 0),
    radius: int = 2,
) -> Tensor:
    """``images`` ``(N, C, H, W)`` in [0, 1] with ``true`` and ``predicted`` ``(N, 2K)`` drawn,
    as ``(N, 3, H, W)`` floats in [0, 1]."""
    shift = torch.tensor(padding, dtype=torch.float32)  # (2,)
    pictures = (images.detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8)
    if pictures.shape[1] == 1:
        pictures = pictures.expand(-1, 3, -1, -1)  # grey to RGB, so the colours show
    drawn: list[Tensor] = []
    for picture, truth, guess in zip(
        pictures, points(true.cpu()) + shift, points(predicted.cpu()) + shift, strict=True
    ):  # (3, H, W), (K, 2), (K, 2)
        picture = draw_keypoints(picture, truth[None], colors=TRUE_COLOUR, radius=radius)
        picture = draw_keypoints(picture, guess[None], colors=PREDICTED_COLOUR, radius=radius)
        drawn.append(picture)
    return torch.stack(drawn).float() / 255  # (N, 3, H, W)
