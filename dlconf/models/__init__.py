"""Data-agnostic models, the roles their architectures play, and what models can do."""

from dlconf.models.protocols import (
    GenerativeModel,
    LikelihoodModel,
    PredictiveModel,
    ReconstructingModel,
    RepresentationLearningModel,
    TrainableModel,
)
from dlconf.models.roles import Decoder, Encoder, LatentClassifier, LatentPredictor, Prior
from dlconf.models.vae import VAE
from dlconf.models.vib import VIB

__all__ = [
    "VAE",
    "VIB",
    "Decoder",
    "Encoder",
    "GenerativeModel",
    "LatentClassifier",
    "LatentPredictor",
    "LikelihoodModel",
    "PredictiveModel",
    "Prior",
    "ReconstructingModel",
    "RepresentationLearningModel",
    "TrainableModel",
]
