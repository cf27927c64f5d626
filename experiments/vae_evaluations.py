"""What the VAE experiments evaluate, on MNIST and CelebA alike: the ELBO, and grids of
samples and of reconstructions. The seed's ``evaluation/VAE.yaml`` group, typed.

An experiment links its eval params and takes the three evaluations::

    e = link(EvalParams)  # VAEEvalParams, or a subclass with other defaults
    elbo, samples, reconstructions = vae_evaluations(e)
"""

from __future__ import annotations

from dataclasses import field
from typing import NamedTuple

from dlconf import VALID, Duration, EvalSettings, Evaluate, Split, conf, minutes
from dlconf.evaluation import ELBOEvaluation, ImageReconstructionEvaluation, ImageSampleEvaluation


class ELBOParams(EvalSettings):
    every: Duration = minutes(1)
    n_samples: int = 2048
    """Examples of each split the ELBO is averaged over (the same ones every time)."""


class ImageParams(EvalSettings):
    every: Duration = minutes(1)
    n_samples: int = 10
    """Pictures in the grid."""
    evaluate_on: Split = VALID


class VAEEvalParams(EvalSettings):
    elbo: ELBOParams = field(default_factory=ELBOParams)
    samples: ImageParams = field(default_factory=ImageParams)
    reconstruction: ImageParams = field(default_factory=ImageParams)


class VAEEvaluations(NamedTuple):
    elbo: Evaluate[ELBOEvaluation]
    """Logs ``ELBO/Train``, ``ELBO/Validation``, ``ELBO/Test``: ``elbo.on(VALID)`` names one."""
    samples: Evaluate[ImageSampleEvaluation]
    reconstructions: Evaluate[ImageReconstructionEvaluation]


def vae_evaluations(e: VAEEvalParams) -> VAEEvaluations:
    """The three evaluations, their settings linked to ``e`` (``link(EvalParams)``)."""
    return VAEEvaluations(
        elbo=Evaluate("ELBO", conf(ELBOEvaluation)(n_samples=e.elbo.n_samples), every=e.elbo.every),
        samples=Evaluate(
            "Images/Samples",
            conf(ImageSampleEvaluation)(n_pictures=e.samples.n_samples),
            every=e.samples.every,
        ),
        reconstructions=Evaluate(
            "Images/Reconstructions",
            conf(ImageReconstructionEvaluation)(
                n_pictures=e.reconstruction.n_samples, evaluate_on=e.reconstruction.evaluate_on
            ),
            every=e.reconstruction.every,
        ),
    )
