"""Variational Information Bottleneck on MNIST: the seed's ``MNIST_VIB``, typed.

Shares the encoder, prior and data sets with ``mnist_vae``; only the model, its classifier
and the evaluations differ.

    python -m experiments.mnist_vib params.beta=1e-3
    python -m experiments.mnist_vib data=synthetic train_for="2 epochs"
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
    conf,
    epochs,
    link,
    main,
    minutes,
)
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


class Params(EncoderParams, BatchParams):
    beta: float = 1e-3
    """Price per nat of information the representation keeps about the input."""
    classifier_layers: list[int] = field(default_factory=list[int])
    """Hidden layers of q(y|z); none gives a linear read-out of z."""


class AccuracyParams(EvalSettings):
    every: Duration = minutes(1)
    n_samples: int = 2048
    """Examples of each split the accuracy is measured on (the first ones)."""


class EvalParams(EvalSettings):
    accuracy: AccuracyParams = field(default_factory=AccuracyParams)


p = link(Params)
e = link(EvalParams)

model = conf(VIB)(
    encoder=ENCODER,
    classifier=conf(MNISTLatentClassifier)(z_dim=p.z_dim, layers=p.classifier_layers),
    prior=PRIOR,
    beta=p.beta,
)

accuracy = Evaluate(
    "Accuracy",
    conf(AccuracyEvaluation)(n_samples=e.accuracy.n_samples),
    every=e.accuracy.every,
)

experiment = Experiment(
    name="mnist_vib",
    params=Params(),
    eval_params=EvalParams(),
    data=MNIST_DATA,
    optimization=batch_adam(model),
    evaluation=[accuracy],
    seed=42,
    run=Run(project="VIB_experiments", name="My_First_VIB"),
    train_for=epochs(10),
    checkpoint=Checkpoint(monitor=accuracy.on(VALID)),
)

if __name__ == "__main__":
    main(experiment)
