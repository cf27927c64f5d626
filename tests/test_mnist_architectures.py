"""The MNIST networks return distributions of the shapes the models rely on."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import nn
from torch.distributions import Categorical

from dlconf.models import VAE, VIB
from experiments.mnist.architectures import (
    DiagonalNormalPrior,
    MNISTDecoder,
    MNISTEncoder,
    MNISTLatentClassifier,
)
from experiments.mnist.synthetic import SyntheticDigits

B, Z = 5, 4


@pytest.fixture
def x() -> torch.Tensor:
    return SyntheticDigits("valid", size=B).images  # (B, 1, 28, 28) grey-levels in [0, 1]


def test_encoder_gives_a_diagonal_gaussian_per_image(x: torch.Tensor) -> None:
    q = MNISTEncoder(z_dim=Z, layers=[32, 16])(x)
    assert q.batch_shape == (B,)
    assert q.event_shape == (Z,)
    assert q.rsample().shape == (B, Z)
    assert q.stddev.min().item() > 0
    assert torch.isfinite(q.log_prob(q.rsample())).all()


def test_decoder_gives_bernoulli_pixels_that_score_grey_images(x: torch.Tensor) -> None:
    p = MNISTDecoder(z_dim=Z, layers=[16, 32])(torch.randn(B, Z))
    assert p.batch_shape == (B,)
    assert p.event_shape == (1, 28, 28)
    log_likelihood = p.log_prob(x)  # grey-levels, not binary: no support error
    assert log_likelihood.shape == (B,)
    assert torch.isfinite(log_likelihood).all()
    assert 0 < p.mean.min().item() <= p.mean.max().item() < 1


def test_decoder_keeps_leading_sample_dimensions() -> None:
    p = MNISTDecoder(z_dim=Z, layers=[8])(torch.randn(3, B, Z))
    assert p.batch_shape == (3, B)
    assert p.sample().shape == (3, B, 1, 28, 28)


def test_classifier_gives_a_categorical_over_ten_digits() -> None:
    q = MNISTLatentClassifier(z_dim=Z, layers=[8])(torch.randn(B, Z))
    assert q.batch_shape == (B,)
    assert q.event_shape == ()
    assert isinstance(q, Categorical)
    assert q.probs.shape == (B, 10)
    assert torch.allclose(q.probs.sum(-1), torch.ones(B))
    assert torch.isfinite(q.log_prob(torch.arange(B))).all()


def test_classifier_without_hidden_layers_is_linear() -> None:
    classifier = MNISTLatentClassifier(z_dim=Z)
    assert sum(p.numel() for p in classifier.parameters()) == Z * 10 + 10


def test_prior_is_a_standard_normal_over_codes() -> None:
    p = DiagonalNormalPrior(z_dim=Z)()
    assert p.batch_shape == ()
    assert p.event_shape == (Z,)
    # log N(0; 0, I) in Z dimensions is -Z/2 log(2 pi).
    assert p.log_prob(torch.zeros(Z)).item() == pytest.approx(-Z / 2 * math.log(2 * math.pi))
    assert p.sample(torch.Size([7])).shape == (7, Z)


def test_prior_follows_its_module_to_a_dtype_or_device() -> None:
    prior = DiagonalNormalPrior(z_dim=Z).to(torch.float64)
    assert prior().sample().dtype == torch.float64
    assert set(dict(prior.named_buffers())) == {"loc", "scale"}
    assert list(prior.parameters()) == []  # nothing for an optimizer to move


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_prior_follows_its_module_to_the_gpu() -> None:
    assert DiagonalNormalPrior(z_dim=Z).cuda()().sample().is_cuda


def test_a_vae_built_from_them_starts_at_784_log_2_nats(x: torch.Tensor) -> None:
    torch.manual_seed(0)
    vae = VAE(MNISTEncoder(Z, [32]), MNISTDecoder(Z, [32]), DiagonalNormalPrior(Z), beta=1.0)
    losses = vae.compute_loss({"x": x})
    losses["loss"].backward()
    # Untrained logits are near 0, so each pixel costs about log 2 nats.
    assert losses["reconstruction"].item() == pytest.approx(784 * math.log(2), rel=0.05)
    assert all(p.grad is not None for p in vae.parameters())


def test_a_vib_built_from_them_starts_at_log_10_nats(x: torch.Tensor) -> None:
    torch.manual_seed(0)
    vib = VIB(MNISTEncoder(Z, [32]), MNISTLatentClassifier(Z), DiagonalNormalPrior(Z), beta=1e-3)
    losses = vib.compute_loss({"x": x, "y": torch.arange(B)})
    assert losses["prediction"].item() == pytest.approx(math.log(10), rel=0.2)
    prediction = vib.predict(x)
    assert isinstance(prediction, Categorical)
    assert prediction.probs.shape == (B, 10)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: MNISTEncoder(z_dim=0, layers=[32]), "z_dim must be >= 1, got 0"),
        (lambda: MNISTDecoder(z_dim=-2, layers=[32]), "z_dim must be >= 1, got -2"),
        (lambda: MNISTEncoder(z_dim=4, layers=[64, 0]), r"got layers=\[64, 0\]"),
        (lambda: MNISTLatentClassifier(z_dim=4, layers=[-1]), r"got layers=\[-1\]"),
        (lambda: DiagonalNormalPrior(z_dim=0), "z_dim must be >= 1, got 0"),
    ],
)
def test_bad_sizes_are_refused_with_the_value(build: Callable[[], nn.Module], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
