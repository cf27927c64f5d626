"""A real experiment whose loss turns NaN at a chosen step (`python -m tests.exploding_experiment`).

The MNIST VAE's configs with one change: the model's loss becomes NaN from its
``explode_at``-th training step on, as a diverging run's would.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dlconf import DATA, Experiment, Run, conf, global_steps, link, main
from dlconf.data import Batch
from dlconf.models import VAE, Decoder, Encoder, Prior
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.architectures import MNISTDecoder
from experiments.mnist.configs import ENCODER, MNIST_DATA, PRIOR, BatchParams, EncoderParams


class ExplodingVAE(VAE):
    def __init__(
        self, encoder: Encoder, decoder: Decoder, prior: Prior, beta: float, explode_at: int
    ) -> None:
        super().__init__(encoder, decoder, prior, beta)
        self.explode_at = explode_at
        self.steps = 0

    def compute_loss(self, batch: Batch) -> dict[str, Tensor]:
        losses = super().compute_loss(batch)
        self.steps += 1
        if self.steps >= self.explode_at:
            nan = torch.tensor(float("nan"))
            losses["regularization"] = nan
            losses["loss"] = losses["reconstruction"] + nan
        return losses


class Params(EncoderParams, BatchParams):
    beta: float = 1.0
    explode_at: int = 7


p = link(Params)

experiment = Experiment(
    name="exploding",
    params=Params(encoder_layers=[64], batch_size=32),
    data=MNIST_DATA,
    optimization=conf(AdamBatchOptimization)(
        model=conf(ExplodingVAE)(
            encoder=ENCODER,
            decoder=conf(MNISTDecoder)(z_dim=p.z_dim, layers=[64]),
            prior=PRIOR,
            beta=p.beta,
            explode_at=p.explode_at,
        ),
        data=DATA,
        lr=p.lr,
        batch_size=p.batch_size,
    ),
    run=Run(project="tests", name="exploding"),
    train_for=global_steps(50),
)

if __name__ == "__main__":
    main(experiment)
