"""MLP architectures for 28x28 grey-scale digits, playing dlconf's model roles.

Each network returns a ``torch.distributions`` object, so the models stay data-agnostic:
the encoder gives a diagonal Gaussian over codes, the decoder independent Bernoulli pixels,
the classifier a categorical over the ten digits, the prior a standard normal. Leading batch
dimensions are free: ``(B, 1, 28, 28)`` and ``(S, B, z_dim)`` both work.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import Tensor, nn
from torch.distributions import Bernoulli, Categorical, Distribution, Independent, Normal
from torch.nn import functional as F

from dlconf.models.roles import Decoder, Encoder, LatentClassifier, Prior

IMAGE_SHAPE = (1, 28, 28)
PIXELS = 28 * 28
NUM_CLASSES = 10
MIN_SCALE = 1e-5  # keeps q(z|x) proper when softplus underflows to 0


def _check(z_dim: int, layers: Sequence[int]) -> None:
    if z_dim < 1:
        raise ValueError(f"z_dim must be >= 1, got {z_dim}")
    if any(size < 1 for size in layers):
        raise ValueError(f"layer sizes must all be >= 1, got layers={list(layers)}")


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers through ``sizes`` with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for n_in, n_out in pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class MNISTEncoder(Encoder):
    """q(z|x): images ``(..., 1, 28, 28)`` to a diagonal Gaussian over ``(..., z_dim)``."""

    def __init__(self, z_dim: int, layers: Sequence[int]) -> None:
        super().__init__()
        _check(z_dim, layers)
        self.net = mlp([PIXELS, *layers, 2 * z_dim])

    def forward(self, x: Tensor) -> Distribution:
        h: Tensor = self.net(x.flatten(start_dim=-3))  # (..., 2 * z_dim)
        loc, raw_scale = h.chunk(2, dim=-1)  # (..., z_dim) each
        return Independent(Normal(loc, F.softplus(raw_scale) + MIN_SCALE), 1)


class MNISTDecoder(Decoder):
    """p(x|z): codes ``(..., z_dim)`` to independent Bernoulli pixels ``(..., 1, 28, 28)``."""

    def __init__(self, z_dim: int, layers: Sequence[int]) -> None:
        super().__init__()
        _check(z_dim, layers)
        self.net = mlp([z_dim, *layers, PIXELS])

    def forward(self, z: Tensor) -> Distribution:
        logits: Tensor = self.net(z)  # (..., 784)
        logits = logits.reshape(*logits.shape[:-1], *IMAGE_SHAPE)  # (..., 1, 28, 28)
        # Grey-levels in [0, 1] are not binary: the continuous relaxation of the Bernoulli
        # log-likelihood is what we train with, so its support check must be off.
        pixels = Bernoulli(logits=logits, validate_args=False)
        return Independent(pixels, len(IMAGE_SHAPE), validate_args=False)


class MNISTLatentClassifier(LatentClassifier):
    """q(y|z): codes ``(..., z_dim)`` to a categorical over the ten digits."""

    def __init__(self, z_dim: int, layers: Sequence[int] = ()) -> None:
        super().__init__()
        _check(z_dim, layers)
        self.net = mlp([z_dim, *layers, NUM_CLASSES])

    def forward(self, z: Tensor) -> Distribution:
        logits: Tensor = self.net(z)  # (..., 10)
        return Categorical(logits=logits)


class DiagonalNormalPrior(Prior):
    """p(z) = N(0, I) over ``(z_dim,)``; buffers so it follows the module to a device."""

    loc: Tensor
    scale: Tensor

    def __init__(self, z_dim: int) -> None:
        super().__init__()
        _check(z_dim, ())
        self.register_buffer("loc", torch.zeros(z_dim))
        self.register_buffer("scale", torch.ones(z_dim))

    def forward(self) -> Distribution:
        return Independent(Normal(self.loc, self.scale), 1)
