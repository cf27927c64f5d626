"""What a model can do, as small protocols the optimization and evaluators rely on.

Models are plain ``nn.Module`` subclasses; they state their abilities by implementing these
methods. Evaluators check the ability they need (``isinstance(model, GenerativeModel)``) and
say which one is missing instead of failing deep inside.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor
from torch.distributions import Distribution

from dlconf.data import Batch


@runtime_checkable
class TrainableModel(Protocol):
    """Computes a loss for one batch: ``"loss"`` is optimized, other keys are logged."""

    def compute_loss(self, batch: Batch) -> dict[str, Tensor]: ...


@runtime_checkable
class GenerativeModel(Protocol):
    """Generates new inputs: ``sample((n,))`` has shape ``(n, *input_shape)``."""

    def sample(self, sample_shape: tuple[int, ...] = ...) -> Tensor: ...


@runtime_checkable
class RepresentationLearningModel(Protocol):
    """Maps inputs to a distribution over representations."""

    def encode(self, x: Tensor) -> Distribution: ...


@runtime_checkable
class ReconstructingModel(Protocol):
    """Encodes and decodes an input batch back to input space (e.g. a VAE)."""

    def reconstruct(self, x: Tensor) -> Tensor: ...


@runtime_checkable
class LikelihoodModel(Protocol):
    """Scores inputs: a per-example lower bound on ``log p(x)`` (the ELBO), shape ``(B,)``."""

    def elbo(self, x: Tensor) -> Tensor: ...


@runtime_checkable
class PredictiveModel(Protocol):
    """Predicts labels: a distribution over ``y`` for each input in the batch."""

    def predict(self, x: Tensor) -> Distribution: ...
