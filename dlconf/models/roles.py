"""The roles an architecture can play for a model, as distinct nominal types.

A model asks for an :class:`Encoder`, a :class:`Decoder`, a :class:`Prior` or a
:class:`LatentPredictor` (of which :class:`LatentClassifier` is the kind for labels); a data
set's architectures subclass these. The roles are separate
classes (not one structural protocol) on purpose: an encoder config passed where the model
wants a decoder or a prior is then a type error in the experiment, before anything runs.

Each role maps tensors to a ``torch.distributions.Distribution``, so models stay
data-agnostic: they only sample, ``rsample`` and ``log_prob``.
"""

from __future__ import annotations

from typing import cast

from torch import Tensor, nn
from torch.distributions import Distribution


class Encoder(nn.Module):
    """q(z | x): an input batch ``(B, ...)`` to a distribution over codes ``(B, z_dim)``."""

    def __call__(self, x: Tensor) -> Distribution:
        return cast(Distribution, super().__call__(x))

    def forward(self, x: Tensor) -> Distribution:
        raise NotImplementedError


class Decoder(nn.Module):
    """p(x | z): codes ``(B, z_dim)`` to a distribution over inputs ``(B, ...)``."""

    def __call__(self, z: Tensor) -> Distribution:
        return cast(Distribution, super().__call__(z))

    def forward(self, z: Tensor) -> Distribution:
        raise NotImplementedError


class LatentPredictor(nn.Module):
    """q(y | z): codes ``(B, z_dim)`` to a distribution over targets ``y``.

    Any distribution whose ``log_prob(y)`` is ``(B,)``: a categorical over labels, a normal
    over coordinates (e.g. face landmarks).
    """

    def __call__(self, z: Tensor) -> Distribution:
        return cast(Distribution, super().__call__(z))

    def forward(self, z: Tensor) -> Distribution:
        raise NotImplementedError


class LatentClassifier(LatentPredictor):
    """q(y | z): codes ``(B, z_dim)`` to a categorical distribution over labels."""


class Prior(nn.Module):
    """p(z): a distribution over codes with event shape ``(z_dim,)``, no input."""

    def __call__(self) -> Distribution:
        return cast(Distribution, super().__call__())

    def forward(self) -> Distribution:
        raise NotImplementedError
