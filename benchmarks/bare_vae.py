"""The MNIST VAE of ``experiments.mnist_vae`` written with torch alone, for the bare scripts.

Same layers (784-1024-128-2x64 encoder, 64-128-1024-784 decoder), same distributions and
loss, same Adam; it imports nothing but torch and torchvision, so the bare scripts that use
it pay for no dlconf, Hydra or pydantic import.
"""

from __future__ import annotations

from itertools import pairwise

import torch
import torchvision
from torch import Tensor, nn
from torch.distributions import Bernoulli, Distribution, Independent, Normal
from torch.nn import functional as F

BATCH_SIZE = 128
LR = 1e-3


def mlp(*sizes: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for n_in, n_out in pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class VAE(nn.Module):
    zeros: Tensor

    def __init__(self, z_dim: int = 64, beta: float = 0.5) -> None:
        super().__init__()
        self.encoder = mlp(784, 1024, 128, 2 * z_dim)
        self.decoder = mlp(z_dim, 128, 1024, 784)
        self.register_buffer("zeros", torch.zeros(z_dim))
        self.beta = beta

    def loss(self, x: Tensor) -> Tensor:
        loc, raw_scale = self.encoder(x.flatten(1)).chunk(2, dim=-1)  # (B, z_dim) each
        q: Distribution = Independent(Normal(loc, F.softplus(raw_scale) + 1e-5), 1)
        z = q.rsample()  # (B, z_dim)
        logits = self.decoder(z).reshape(x.shape)  # (B, 1, 28, 28)
        p: Distribution = Independent(
            Bernoulli(logits=logits, validate_args=False), 3, validate_args=False
        )
        prior: Distribution = Independent(Normal(self.zeros, torch.ones_like(self.zeros)), 1)
        reconstruction = -p.log_prob(x).mean()
        regularization = (q.log_prob(z) - prior.log_prob(z)).mean()
        loss: Tensor = reconstruction + self.beta * regularization
        return loss


def mnist_train(root: str) -> tuple[Tensor, Tensor]:
    """MNIST's training file through torchvision: images ``(N, 1, 28, 28)`` in [0, 1]."""
    dataset = torchvision.datasets.MNIST(root, train=True)
    return dataset.data[:, None].float().div_(255.0), dataset.targets
