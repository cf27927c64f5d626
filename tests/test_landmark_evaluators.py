"""Landmark evaluations: the error is the mean point distance, the picture shows both sets."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution, Independent, Normal

from dlconf.evaluation import LandmarkErrorEvaluation, LandmarkImageEvaluation, ScalarsEntry
from dlconf.evaluation.landmarks import PREDICTED_COLOUR, TRUE_COLOUR, draw_landmarks
from dlconf.models import VIB
from experiments.celeba.architectures import ConvEncoder, ConvLayer, LandmarkPredictor
from experiments.celeba.synthetic import SyntheticFaces
from experiments.mnist.architectures import DiagonalNormalPrior
from tests.test_evaluators import optimization_of

SIZE = (24, 20)  # height, width


class ShiftedGuess(nn.Module):
    """Predicts every true point moved ``(3, 4)`` pixels: each is 5 pixels off."""

    def __init__(self, truth: Tensor) -> None:
        super().__init__()
        self.truth = truth

    def predict(self, x: Tensor) -> Distribution:
        guess = self.truth[: len(x)] + torch.tensor([3.0, 4.0]).repeat(5)  # (B, 10)
        return Independent(Normal(guess, torch.ones_like(guess)), 1)


def faces() -> dict[str, SyntheticFaces]:
    return {split: SyntheticFaces(split, size=8, image_size=SIZE) for split in ("train", "valid")}


def test_error_is_the_mean_distance_in_pixels() -> None:
    data = faces()
    model = ShiftedGuess(data["valid"].landmarks)
    entry = LandmarkErrorEvaluation(n_samples=8, evaluate_on=["valid"]).evaluate(
        optimization_of(model, data)
    )
    assert isinstance(entry, ScalarsEntry)
    assert entry.values == {"Validation": pytest.approx(5.0)}


def test_picture_is_a_row_of_images_with_true_points_green_and_predicted_red() -> None:
    data = faces()
    model = ShiftedGuess(data["valid"].landmarks)
    entry = LandmarkImageEvaluation(n_pictures=3, radius=1).evaluate(optimization_of(model, data))
    assert entry.image.shape == (3, 2 + SIZE[0] + 2, 2 + 3 * (SIZE[1] + 2))  # make_grid's 2 px
    pixels = entry.image.permute(1, 2, 0).reshape(-1, 3)  # (P, 3)
    assert (pixels == torch.tensor([0.0, 1.0, 0.0])).all(-1).any()  # TRUE_COLOUR
    assert (pixels == torch.tensor([1.0, 0.0, 0.0])).all(-1).any()  # PREDICTED_COLOUR
    assert (TRUE_COLOUR, PREDICTED_COLOUR) == ("#00ff00", "#ff0000")


def test_padding_moves_the_points_by_x_y_pixels() -> None:
    image = torch.zeros(1, 3, 10, 10)
    point = torch.tensor([[2.0, 3.0] * 5])  # (1, 10), all five at x=2, y=3
    drawn = draw_landmarks(image, point, point, padding=(4, 1), radius=1)
    assert drawn[0, 0, 4, 6] == 1.0  # the predicted (red) dot, at y=3+1, x=2+4
    assert drawn[0, :, 3, 2].sum() == 0.0  # nothing where the unpadded point would be


def test_sampled_latents_make_the_vib_prediction_random() -> None:
    torch.manual_seed(0)
    encoder = ConvEncoder(4, [ConvLayer(3, 4, 4, 2), ConvLayer(4, 4, 11, 1)], image_size=SIZE)
    vib = VIB(encoder, LandmarkPredictor(4, [], SIZE), DiagonalNormalPrior(4), beta=1.0)
    x = faces()["valid"][0]["x"][None]  # (1, 3, 24, 20)
    assert torch.equal(vib.predict(x).mean, vib.predict(x).mean)
    assert not torch.equal(
        vib.predict(x, sample_latents=True).mean, vib.predict(x, sample_latents=True).mean
    )
    entry = LandmarkImageEvaluation(n_pictures=2, sample_latents=True).evaluate(
        optimization_of(vib, faces())
    )
    assert entry.image.shape[0] == 3


class Classifier(nn.Module):
    def predict(self, x: Tensor) -> Distribution:
        return Categorical(logits=torch.zeros(len(x), 10))


def test_a_prediction_that_is_not_over_landmarks_is_named() -> None:
    with pytest.raises(TypeError) as error:
        LandmarkErrorEvaluation(n_samples=4).evaluate(optimization_of(Classifier(), faces()))
    assert str(error.value) == (
        "LandmarkErrorEvaluation needs predict(x) to be a distribution over landmarks of "
        "shape (4, 10); got Categorical with mean of shape (4,)"
    )
