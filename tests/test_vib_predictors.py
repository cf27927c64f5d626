"""The VIB scores its predictor's distribution: categorical labels and normal landmarks alike."""

from __future__ import annotations

import pytest
import torch

from dlconf.models import VIB
from experiments.celeba.architectures import ConvEncoder, ConvLayer, LandmarkPredictor
from experiments.mnist.architectures import (
    DiagonalNormalPrior,
    MNISTEncoder,
    MNISTLatentClassifier,
)

B, Z = 6, 4


def _prediction_term(vib: VIB, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The model's ``prediction`` loss and ``-log q(y|z)`` by hand, on the same sample of z."""
    torch.manual_seed(0)
    reported = vib.compute_loss({"x": x, "y": y})["prediction"].item()
    torch.manual_seed(0)
    z = vib.encoder(x).rsample()  # (B, Z)
    by_hand = -vib.predictor(z).log_prob(y).mean().item()
    return reported, by_hand


def test_labels_are_scored_by_a_categorical() -> None:
    vib = VIB(MNISTEncoder(Z, [8]), MNISTLatentClassifier(Z), DiagonalNormalPrior(Z), beta=0.1)
    x, y = torch.rand(B, 1, 28, 28), torch.arange(B)
    reported, by_hand = _prediction_term(vib, x, y)
    assert reported == pytest.approx(by_hand)
    assert vib.predict(x).probs.shape == (B, 10)


def test_landmarks_are_scored_by_a_normal_over_ten_coordinates() -> None:
    encoder = ConvEncoder(Z, [ConvLayer(3, 4, 4, 2), ConvLayer(4, 8, 7, 1)], image_size=(16, 13))
    vib = VIB(encoder, LandmarkPredictor(Z, [8], (16, 13)), DiagonalNormalPrior(Z), beta=0.1)
    x, y = torch.rand(B, 3, 16, 13), 16 * torch.rand(B, 10)
    reported, by_hand = _prediction_term(vib, x, y)
    assert reported == pytest.approx(by_hand)
    assert vib.predict(x).mean.shape == (B, 10)
