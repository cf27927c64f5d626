"""Evaluations: map an optimization (model + data) to a typed log entry.

An evaluation runs inside an :class:`~dlconf.callbacks.EvaluationCallback` at its own
rhythm; its entry is written by every logger through one interface.
"""

from dlconf.evaluation.accuracy import AccuracyEvaluation
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.elbo import ELBOEvaluation
from dlconf.evaluation.entries import (
    ImageEntry,
    LogEntry,
    PlotEntry,
    ScalarEntry,
    ScalarsEntry,
    scalar_values,
)
from dlconf.evaluation.images import ImageReconstructionEvaluation, ImageSampleEvaluation
from dlconf.evaluation.landmarks import LandmarkErrorEvaluation, LandmarkImageEvaluation

__all__ = [
    "AccuracyEvaluation",
    "ELBOEvaluation",
    "Evaluation",
    "ImageEntry",
    "ImageReconstructionEvaluation",
    "ImageSampleEvaluation",
    "LandmarkErrorEvaluation",
    "LandmarkImageEvaluation",
    "LogEntry",
    "PlotEntry",
    "ScalarEntry",
    "ScalarsEntry",
    "scalar_values",
]
