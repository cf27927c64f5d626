"""How a sweep draws one parameter: W&B's distributions, typed by what they sample.

Each class is one of W&B's parameter kinds, named as W&B names it (``uniform`` is
:class:`Uniform`, ``int_uniform`` is :class:`IntUniform`, a list of ``values`` is
:class:`Values`...). ``Distribution[Sampled]`` samples values of type ``Sampled``, and it
is covariant: an ``IntUniform`` (``Distribution[int]``) may sweep a ``float`` field, but a
``Uniform`` (``Distribution[float]``) on an ``int`` field is a type error where
:func:`~dlconf.sweeps.vary` binds it, because W&B would send ``params.batch_size=144.37``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

# Named for the message a checker prints when a float distribution meets an int field:
# 'Type parameter "Sampled@Distribution" is covariant, but "float" is not a subtype of "int"'.
Sampled = TypeVar("Sampled", covariant=True)

Kind = Literal["int", "float"]


class Distribution(ABC, Generic[Sampled]):
    """Draws values of type ``Sampled`` for one sweep parameter."""

    kind: ClassVar[Kind | None] = None
    """``"float"`` for distributions that sample any real number (W&B sends floats even when
    they happen to be whole), ``"int"`` for whole numbers, None when the values are listed."""

    @abstractmethod
    def to_wandb(self) -> dict[str, Any]:
        """This parameter's entry in a W&B sweep config."""

    @abstractmethod
    def representatives(self) -> tuple[Sampled, ...]:
        """Values this distribution can produce: bounds and a middle, or every listed value."""


@dataclass(frozen=True)
class Constant(Distribution[Sampled]):
    """W&B's ``value``: the same value in every run (e.g. a fixed ``train_for``)."""

    value: Sampled

    def to_wandb(self) -> dict[str, Any]:
        return {"value": self.value}

    def representatives(self) -> tuple[Sampled, ...]:
        return (self.value,)


@dataclass(frozen=True)
class Values(Distribution[Sampled]):
    """W&B's ``values`` (``categorical``): one of the listed values, with optional weights.

    ``probabilities`` gives W&B's ``categorical_w_probabilities``; they must sum to 1.
    """

    values: Sequence[Sampled]
    probabilities: Sequence[float] | None = None

    def to_wandb(self) -> dict[str, Any]:
        if self.probabilities is None:
            return {"values": list(self.values)}
        return {"values": list(self.values), "probabilities": list(self.probabilities)}

    def representatives(self) -> tuple[Sampled, ...]:
        return tuple(self.values)


@dataclass(frozen=True)
class _Bounded(Distribution[float]):
    min: float
    max: float

    kind: ClassVar[Kind | None] = "float"
    wandb_name: ClassVar[str]

    def to_wandb(self) -> dict[str, Any]:
        return {"distribution": self.wandb_name, "min": self.min, "max": self.max}

    def representatives(self) -> tuple[float, ...]:
        return (float(self.min), (self.min + self.max) / 2, float(self.max))


@dataclass(frozen=True)
class Uniform(_Bounded):
    """W&B's ``uniform``: a real number in ``[min, max]``."""

    wandb_name: ClassVar[str] = "uniform"


@dataclass(frozen=True)
class IntUniform(Distribution[int]):
    """W&B's ``int_uniform``: a whole number in ``[min, max]``."""

    min: int
    max: int

    kind: ClassVar[Kind | None] = "int"

    def to_wandb(self) -> dict[str, Any]:
        return {"distribution": "int_uniform", "min": self.min, "max": self.max}

    def representatives(self) -> tuple[int, ...]:
        return (self.min, (self.min + self.max) // 2, self.max)


@dataclass(frozen=True)
class QUniform(_Bounded):
    """W&B's ``q_uniform``: ``round(x / q) * q`` for ``x`` uniform in ``[min, max]``.

    W&B sends floats (``64.0``) even for a whole ``q``: use :class:`IntUniform` or
    :class:`Values` for an ``int`` field.
    """

    q: float = 1.0
    wandb_name: ClassVar[str] = "q_uniform"

    def to_wandb(self) -> dict[str, Any]:
        return {**super().to_wandb(), "q": self.q}

    def representatives(self) -> tuple[float, ...]:
        return tuple(float(round(x / self.q) * self.q) for x in super().representatives())


@dataclass(frozen=True)
class LogUniform(_Bounded):
    """W&B's ``log_uniform``, as the seed wrote it: ``exp(x)`` for ``x`` uniform in
    ``[min, max]``, so ``min`` and ``max`` are natural-log exponents (``-20`` is ``e^-20``).

    W&B's validator now refuses ``log_uniform`` ("min/max specify base-e exponents. Use
    log_uniform_values"), so the sweep config says the same thing in the form it accepts:
    ``log_uniform_values`` from ``e^min`` to ``e^max``.
    """

    wandb_name: ClassVar[str] = "log_uniform_values"

    def to_wandb(self) -> dict[str, Any]:
        return {
            "distribution": self.wandb_name,
            "min": math.exp(self.min),
            "max": math.exp(self.max),
        }

    def representatives(self) -> tuple[float, ...]:
        return (math.exp(self.min), math.exp((self.min + self.max) / 2), math.exp(self.max))


@dataclass(frozen=True)
class _PositiveBounded(_Bounded):
    def representatives(self) -> tuple[float, ...]:
        return (float(self.min), math.sqrt(self.min * self.max), float(self.max))


@dataclass(frozen=True)
class LogUniformValues(_PositiveBounded):
    """W&B's ``log_uniform_values``: log-uniform between the values ``min`` and ``max`` (> 0)."""

    wandb_name: ClassVar[str] = "log_uniform_values"


@dataclass(frozen=True)
class InvLogUniformValues(_PositiveBounded):
    """W&B's ``inv_log_uniform_values``: ``1 / x`` for ``x`` log-uniform in ``[1/max, 1/min]``."""

    wandb_name: ClassVar[str] = "inv_log_uniform_values"


@dataclass(frozen=True)
class QLogUniformValues(_PositiveBounded):
    """W&B's ``q_log_uniform_values``: log-uniform between ``min`` and ``max``, rounded to ``q``."""

    q: float = 1.0
    wandb_name: ClassVar[str] = "q_log_uniform_values"

    def to_wandb(self) -> dict[str, Any]:
        return {**super().to_wandb(), "q": self.q}

    def representatives(self) -> tuple[float, ...]:
        return tuple(float(round(x / self.q) * self.q) for x in super().representatives())


@dataclass(frozen=True)
class Normal(Distribution[float]):
    """W&B's ``normal``: mean ``mu``, standard deviation ``sigma``; unbounded."""

    mu: float = 0.0
    sigma: float = 1.0

    kind: ClassVar[Kind | None] = "float"
    wandb_name: ClassVar[str] = "normal"

    def to_wandb(self) -> dict[str, Any]:
        return {"distribution": self.wandb_name, "mu": self.mu, "sigma": self.sigma}

    def representatives(self) -> tuple[float, ...]:
        # Three standard deviations cover what a sweep will realistically draw.
        return (self.mu - 3 * self.sigma, float(self.mu), self.mu + 3 * self.sigma)


@dataclass(frozen=True)
class LogNormal(Normal):
    """W&B's ``log_normal``: ``exp(x)`` for ``x`` normal with ``mu``, ``sigma``; positive."""

    wandb_name: ClassVar[str] = "log_normal"

    def representatives(self) -> tuple[float, ...]:
        return tuple(math.exp(x) for x in super().representatives())


@dataclass(frozen=True)
class QNormal(Normal):
    """W&B's ``q_normal``: a normal value rounded to a multiple of ``q`` (still a float)."""

    q: float = 1.0
    wandb_name: ClassVar[str] = "q_normal"

    def to_wandb(self) -> dict[str, Any]:
        return {**super().to_wandb(), "q": self.q}

    def representatives(self) -> tuple[float, ...]:
        return tuple(float(round(x / self.q) * self.q) for x in super().representatives())


@dataclass(frozen=True)
class Beta(Distribution[float]):
    """W&B's ``beta``: a number in ``[0, 1]`` with shape parameters ``a`` and ``b``."""

    a: float = 1.0
    b: float = 1.0

    kind: ClassVar[Kind | None] = "float"

    def to_wandb(self) -> dict[str, Any]:
        return {"distribution": "beta", "a": self.a, "b": self.b}

    def representatives(self) -> tuple[float, ...]:
        return (0.0, self.a / (self.a + self.b), 1.0)
