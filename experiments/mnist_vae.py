"""Variational Autoencoder on MNIST: the seed's ``experiment/MNIST_VAE.yaml``, typed.

python -m experiments.mnist_vae                                  # 10 epochs, defaults
python -m experiments.mnist_vae params.beta=0.1 train_for="30 minutes"
python -m experiments.mnist_vae data=synthetic                   # no download needed
python -m experiments.mnist_vae -m params.beta=0.01,0.1,1.0      # one run per value
"""

from __future__ import annotations

from dataclasses import field

from dlconf import (
    VALID,
    Checkpoint,
    Duration,
    EvalSettings,
    Evaluate,
    Experiment,
    Run,
    Split,
    conf,
    epochs,
    link,
    main,
    minutes,
)
from dlconf.evaluation import ELBOEvaluation, ImageReconstructionEvaluation, ImageSampleEvaluation
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


class Params(EncoderParams, BatchParams):
    """Every hyper-parameter of the experiment: model, architectures, optimization."""

    beta: float = 0.5
    """Weight of the KL regularization (beta-VAE); 1 gives the ELBO."""
    decoder_layers: list[int] = field(default_factory=lambda: [128, 1024])
    """Hidden layer sizes of the decoder, code to image."""


class ELBOParams(EvalSettings):
    every: Duration = minutes(1)
    n_samples: int = 2048
    """Examples of each split the ELBO is averaged over (the same ones every time)."""


class ImageParams(EvalSettings):
    every: Duration = minutes(1)
    n_samples: int = 10
    """Pictures in the grid."""
    evaluate_on: Split = VALID


class EvalParams(EvalSettings):
    elbo: ELBOParams = field(default_factory=ELBOParams)
    samples: ImageParams = field(default_factory=ImageParams)
    reconstruction: ImageParams = field(default_factory=ImageParams)


p = link(Params)
e = link(EvalParams)

model = conf(VAE)(
    encoder=ENCODER,
    decoder=conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers),
    prior=PRIOR,
    beta=p.beta,
)

elbo = Evaluate("ELBO", conf(ELBOEvaluation)(n_samples=e.elbo.n_samples), every=e.elbo.every)
samples = Evaluate(
    "Images/Samples",
    conf(ImageSampleEvaluation)(n_pictures=e.samples.n_samples),
    every=e.samples.every,
)
reconstructions = Evaluate(
    "Images/Reconstructions",
    conf(ImageReconstructionEvaluation)(
        n_pictures=e.reconstruction.n_samples, evaluate_on=e.reconstruction.evaluate_on
    ),
    every=e.reconstruction.every,
)

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
