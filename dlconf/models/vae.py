"""Variational Autoencoder (Kingma & Welling, 2014), data- and architecture-agnostic.

The loss is ``reconstruction + beta * regularization`` where reconstruction is
``-E_q[log p(x|z)]`` and regularization is ``E_q[log q(z|x) - log p(z)]`` (the KL divergence
estimated with the same sample). ``beta = 1`` gives the negative ELBO.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from dlconf.data import Batch
from dlconf.models.roles import Decoder, Encoder, Prior


class VAE(nn.Module):
    """q(z|x) ``encoder``, p(x|z) ``decoder``, p(z) ``prior``, KL weight ``beta``."""

    def __init__(self, encoder: Encoder, decoder: Decoder, prior: Prior, beta: float) -> None:
        super().__init__()
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.encoder = encoder
        self.decoder = decoder
        self.prior = prior
        self.beta = beta

    def loss_components(self, x: Tensor) -> dict[str, Tensor]:
        """Per-example ``reconstruction`` and ``regularization``, each of shape ``(B,)``."""
        q_z_given_x = self.encoder(x)
        z = q_z_given_x.rsample()  # (B, z_dim), reparametrized so gradients reach q
        p_x_given_z = self.decoder(z)
        reconstruction = -p_x_given_z.log_prob(x)
        regularization = q_z_given_x.log_prob(z) - self.prior().log_prob(z)
        return {"reconstruction": reconstruction, "regularization": regularization}

    def compute_loss(self, batch: Batch) -> dict[str, Tensor]:
        parts = self.loss_components(batch["x"])
        reconstruction = parts["reconstruction"].mean()
        regularization = parts["regularization"].mean()
        return {
            "loss": reconstruction + self.beta * regularization,
            "reconstruction": reconstruction.detach(),
            "regularization": regularization.detach(),
        }

    def elbo(self, x: Tensor) -> Tensor:
        """A one-sample estimate of the evidence lower bound for each input, ``(B,)``."""
        parts = self.loss_components(x)
        return -(parts["reconstruction"] + parts["regularization"])

    def encode(self, x: Tensor) -> Distribution:
        return self.encoder(x)

    def reconstruct(self, x: Tensor) -> Tensor:
        """The decoder's mean for the encoder's mean code: ``(B, *input_shape)``."""
        return self.decoder(self.encoder(x).mean).mean

    def sample(self, sample_shape: tuple[int, ...] = (), sample_output: bool = False) -> Tensor:
        """New inputs from the prior: the decoder's mean, or a sample with ``sample_output``."""
        z = self.prior().sample(torch.Size(sample_shape))  # (*sample_shape, z_dim)
        p_x_given_z = self.decoder(z)
        return p_x_given_z.sample() if sample_output else p_x_given_z.mean
