"""Variational Information Bottleneck on MNIST: the seed's ``MNIST_VIB``, typed.

Shares the encoder, prior and data sets with ``mnist_vae``; only the model, its classifier
and the evaluations differ.

    python -m experiments.mnist_vib params.beta=1e-3
    python -m experiments.mnist_vib data=synthetic train_for="2 epochs"
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlconf import Checkpoint, Evaluate, Experiment, Run, conf, link, main
from dlconf.evaluation import AccuracyEvaluation
from dlconf.models import VIB
from experiments.mnist.architectures import MNISTLatentClassifier
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
    beta: float = 1e-3
    """Price per nat of information the representation keeps about the input."""
    classifier_layers: list[int] = field(default_factory=list[int])
    """Hidden layers of q(y|z); none gives a linear read-out of z."""


@dataclass
class AccuracyParams:
    every: str = "1 minute"
    n_samples: int = 2048


@dataclass
class EvalParams:
    accuracy: AccuracyParams = field(default_factory=AccuracyParams)


p = link(Params, "params")
e = link(EvalParams, "eval_params")

model = conf(VIB)(
    encoder=ENCODER,
    predictor=conf(MNISTLatentClassifier)(z_dim=p.z_dim, layers=p.classifier_layers),
    prior=PRIOR,
    beta=p.beta,
)

optimization = batch_adam(model)

experiment = Experiment(
    name="mnist_vib",
    params=Params(),
    eval_params=EvalParams(),
    data=MNIST_DATA,
    default_data="mnist",
    optimization=optimization,
    evaluation={
        "Accuracy": Evaluate(
            conf(AccuracyEvaluation)(n_samples=e.accuracy.n_samples),
            every=e.accuracy.every,
        ),
    },
    seed=42,
    run=Run(project="VIB_experiments", name="My_First_VIB"),
    train_for="10 epochs",
    checkpoint=Checkpoint(monitor="Accuracy/Validation", mode="max"),
)

if __name__ == "__main__":
    main(experiment)
