"""Variational Information Bottleneck for CelebA's landmarks: the seed's ``CelebA_VIB_landmarks``.

The same VIB as ``mnist_vib``; its predictor is a normal over the 10 landmark coordinates
instead of a categorical over digits, and it shares the encoder and data with
``celeba_vae``.

python -m experiments.celeba_vib_landmarks                        # CelebA in <data_root>/celeba
python -m experiments.celeba_vib_landmarks data=synthetic train_for="50 global_steps"
python -m experiments.celeba_vib_landmarks params.beta=1e-3 params.predictor_layers=[256,32]
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
from dlconf.evaluation import LandmarkErrorEvaluation, LandmarkImageEvaluation
from dlconf.models import VIB
from experiments.celeba.architectures import LandmarkPredictor
from experiments.celeba.configs import ENCODER, PRIOR, CelebAParams, celeba_data
from experiments.mnist.configs import BatchParams, batch_adam


class Params(CelebAParams, BatchParams):
    beta: float = 1e-3
    """Price per nat of information the representation keeps about the image."""
    predictor_layers: list[int] = field(default_factory=lambda: [1024, 128, 32])
    """Hidden layers of q(y|z), the landmark predictor."""
    lr: float = 1e-4
    batch_size: int = 64


class ErrorParams(EvalSettings):
    every: Duration = minutes(5)
    n_samples: int = 512


class LandmarkImageParams(EvalSettings):
    every: Duration = minutes(5)
    n_pictures: int = 10
    padding: list[int] = field(default_factory=lambda: [0, 0])
    """The seed's [20, 0] shifted its 178-wide landmarks onto images padded to 218; here
    the images keep their 178 columns, so the points need no shift."""
    sample_latents: bool = False


class EvalParams(EvalSettings):
    landmark_error: ErrorParams = field(default_factory=ErrorParams)
    landmarks: LandmarkImageParams = field(default_factory=LandmarkImageParams)


p = link(Params)
e = link(EvalParams)

model = conf(VIB)(
    encoder=ENCODER,
    predictor=conf(LandmarkPredictor)(
        z_dim=p.z_dim, layers=p.predictor_layers, image_size=p.image_size
    ),
    prior=PRIOR,
    beta=p.beta,
)

landmark_error = Evaluate(
    "LandmarkError",
    conf(LandmarkErrorEvaluation)(n_samples=e.landmark_error.n_samples),
    every=e.landmark_error.every,
)
landmarks = Evaluate(
    "Images/Landmarks",
    conf(LandmarkImageEvaluation)(
        n_pictures=e.landmarks.n_pictures,
        padding=e.landmarks.padding,
        sample_latents=e.landmarks.sample_latents,
    ),
    every=e.landmarks.every,
)

experiment = Experiment(
    name="celeba_vib_landmarks",
    params=Params(),
    eval_params=EvalParams(),
    data=celeba_data("landmarks"),
    optimization=batch_adam(model),
    evaluation=[landmark_error, landmarks],
    seed=42,
    run=Run(project="VIB_experiments", name="CelebA_VIB_landmarks"),
    train_for=epochs(10),
    checkpoint=Checkpoint(monitor=landmark_error.on(VALID)),  # minimized: an error
)

if __name__ == "__main__":
    main(experiment)
