"""Variational Autoencoder on MNIST: the seed's ``experiment/MNIST_VAE.yaml``, typed.

python -m experiments.mnist_vae                                  # 10 epochs, defaults
python -m experiments.mnist_vae params.beta=0.1 train_for="30 minutes"
python -m experiments.mnist_vae data=synthetic                   # no download needed
python -m experiments.mnist_vae -m params.beta=0.01,0.1,1.0      # one run per value
"""

from __future__ import annotations

from dataclasses import field

from dlconf import VALID, Checkpoint, Experiment, Run, conf, epochs, link, main
from dlconf.models import VAE
from experiments.mnist.architectures import MNISTDecoder
from experiments.mnist.configs import (
    ENCODER,
    MNIST_DATA,
    PRIOR,
    BatchParams,
    EncoderParams,
    batch_adam,
)
from experiments.vae_evaluations import VAEEvalParams, vae_evaluations


class Params(EncoderParams, BatchParams):
    """Every hyper-parameter of the experiment: model, architectures, optimization."""

    beta: float = 0.5
    """Weight of the KL regularization (beta-VAE); 1 gives the ELBO."""
    decoder_layers: list[int] = field(default_factory=lambda: [128, 1024])
    """Hidden layer sizes of the decoder, code to image."""


class EvalParams(VAEEvalParams):
    """How often and on how much the ELBO, the samples and the reconstructions are evaluated."""


p = link(Params)
e = link(EvalParams)

model = conf(VAE)(
    encoder=ENCODER,
    decoder=conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers),
    prior=PRIOR,
    beta=p.beta,
)

elbo, samples, reconstructions = vae_evaluations(e)

experiment = Experiment(
    name="mnist_vae",
    params=Params(),
    eval_params=EvalParams(),
    data=MNIST_DATA,
    optimization=batch_adam(model),
    evaluation=[elbo, samples, reconstructions],
    seed=42,
    run=Run(project="VAE_experiments", name="My_First_VAE"),
    train_for=epochs(10),
    checkpoint=Checkpoint(monitor=elbo.on(VALID)),
)

if __name__ == "__main__":
    main(experiment)
