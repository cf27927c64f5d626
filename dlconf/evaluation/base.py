"""The evaluation interface: map an optimization (model + data) to a log entry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic

from torch import nn
from typing_extensions import TypeVar

from dlconf.errors import ConfigError
from dlconf.evaluation.entries import LogEntry
from dlconf.optimization.base import Optimization

ModelT = TypeVar("ModelT", default=Any, contravariant=True)
"""What the evaluation needs the model to be (``LikelihoodModel``), for the checker: an
experiment whose model is not one cannot list the evaluation."""


class Evaluation(ABC, Generic[ModelT]):
    """Computes one :data:`LogEntry` from the current state of an optimization.

    Called by the evaluation callback at its own rhythm, in ``eval`` mode and without
    gradients; implementations read ``optimization.model`` and ``optimization.data``.
    An evaluation that needs a model ability (``elbo(x)``, ``sample(...)``) names it in
    :attr:`ability`, so a model without it is refused before training starts.
    """

    ability: ClassVar[type[Any] | None] = None
    """The protocol the model must implement (runtime-checkable), or None for any model."""
    ability_method: ClassVar[str] = ""
    """How the needed method reads in an error message, e.g. ``"elbo(x)"``."""

    @abstractmethod
    def evaluate(self, optimization: Optimization) -> LogEntry: ...

    def missing_ability(self, model: nn.Module) -> str | None:
        """Why this evaluation cannot work with ``model``, or None when it can."""
        if self.ability is None or isinstance(model, self.ability):
            return None
        return (
            f"{type(self).__name__} needs a {self.ability.__name__}, a model with "
            f"{self.ability_method}; {type(model).__name__} has no "
            f"{self.ability_method.split('(')[0]}() method"
        )

    def check_model(self, model: nn.Module, name: str) -> None:
        """Refuse, before training, a model this evaluation (logged as ``name``) cannot use."""
        problem = self.missing_ability(model)
        if problem is not None:
            raise ConfigError(f"evaluation {name!r}: {problem}")
