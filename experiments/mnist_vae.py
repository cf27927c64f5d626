"""Variational Autoencoder on MNIST: the seed's ``experiment/MNIST_VAE.yaml``, typed.

python -m experiments.mnist_vae                                  # 10 epochs, defaults
python -m experiments.mnist_vae params.beta=0.1 train_for="30 minutes"
python -m experiments.mnist_vae data=synthetic                   # no download needed
python -m experiments.mnist_vae -m params.beta=0.01,0.1,1.0      # one run per value
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlconf import Checkpoint, Evaluate, Experiment, Run, conf, link, main
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


@dataclass
class Params(EncoderParams, BatchParams):
    """Every hyper-parameter of the experiment: model, architectures, optimization."""

    beta: float = 0.5
    """Weight of the KL regularization (beta-VAE); 1 gives the ELBO."""
    decoder_layers: list[int] = field(default_factory=lambda: [128, 1024])


@dataclass
class ELBOParams:
    every: str = "1 minute"
    n_samples: int = 2048


@dataclass
class ImageParams:
    every: str = "1 minute"
    n_samples: int = 10
    evaluate_on: str = "valid"


@dataclass
class EvalParams:
    elbo: ELBOParams = field(default_factory=ELBOParams)
    samples: ImageParams = field(default_factory=ImageParams)
    reconstruction: ImageParams = field(default_factory=ImageParams)


p = link(Params, "params")
e = link(EvalParams, "eval_params")

model = conf(VAE)(
    encoder=ENCODER,
    decoder=conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers),
    prior=PRIOR,
    beta=p.beta,
)

optimization = batch_adam(model)

experiment = Experiment(
    name="mnist_vae",
    params=Params(),
    eval_params=EvalParams(),
    data=MNIST_DATA,
    default_data="mnist",
    optimization=optimization,
    evaluation={
        "ELBO": Evaluate(
            conf(ELBOEvaluation)(n_samples=e.elbo.n_samples),
            every=e.elbo.every,
        ),
        "Images/Samples": Evaluate(
            conf(ImageSampleEvaluation)(n_pictures=e.samples.n_samples),
            every=e.samples.every,
        ),
        "Images/Reconstructions": Evaluate(
            conf(ImageReconstructionEvaluation)(
                n_pictures=e.reconstruction.n_samples,
                evaluate_on=e.reconstruction.evaluate_on,
            ),
            every=e.reconstruction.every,
        ),
    },
    seed=42,
    run=Run(project="VAE_experiments", name="My_First_VAE"),
    train_for="10 epochs",
    checkpoint=Checkpoint(monitor="ELBO/Validation", mode="max"),
)

if __name__ == "__main__":
    main(experiment)
