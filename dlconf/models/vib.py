"""Variational Information Bottleneck (Alemi et al., 2017), data- and architecture-agnostic.

A stochastic representation z of x is trained to predict y while paying ``beta`` per nat of
information about x: the loss is ``-E_q[log q(y|z)] + beta * E_q[log q(z|x) - log p(z)]``.
The predictor returns any distribution over y, so the same model fits labels (a categorical
q(y|z)) and continuous targets such as face landmarks (a normal q(y|z)).
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.distributions import Distribution

from dlconf.data import Batch
from dlconf.models.roles import Encoder, LatentPredictor, Prior


class VIB(nn.Module):
    """q(z|x) ``encoder``, q(y|z) ``predictor``, p(z) ``prior``, bottleneck weight ``beta``."""

    def __init__(
        self, encoder: Encoder, predictor: LatentPredictor, prior: Prior, beta: float
    ) -> None:
        super().__init__()
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.encoder = encoder
        self.predictor = predictor
        self.prior = prior
        self.beta = beta

    def compute_loss(self, batch: Batch) -> dict[str, Tensor]:
        x, y = batch["x"], batch["y"]
        q_z_given_x = self.encoder(x)
        z = q_z_given_x.rsample()  # (B, z_dim)
        prediction = -self.predictor(z).log_prob(y).mean()
        regularization = (q_z_given_x.log_prob(z) - self.prior().log_prob(z)).mean()
        return {
            "loss": prediction + self.beta * regularization,
            "prediction": prediction.detach(),
            "regularization": regularization.detach(),
        }

    def encode(self, x: Tensor) -> Distribution:
        return self.encoder(x)

    def predict(self, x: Tensor, sample_latents: bool = False) -> Distribution:
        """q(y|x), read through the encoder's mean code (the deterministic prediction), or
        through a code sampled from q(z|x) with ``sample_latents``."""
        q_z_given_x = self.encoder(x)
        return self.predictor(q_z_given_x.sample() if sample_latents else q_z_given_x.mean)
