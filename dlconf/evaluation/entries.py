"""Typed log entries: what an evaluation produces and every logger knows how to write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from torch import Tensor

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class ScalarEntry:
    """One number, logged under the evaluation's name."""

    value: float


@dataclass(frozen=True)
class ScalarsEntry:
    """Several numbers, each logged as ``<name>/<key>`` (e.g. ``ELBO/Validation``)."""

    values: Mapping[str, float]


@dataclass(frozen=True)
class ImageEntry:
    """An image ``(C, H, W)`` with values in [0, 1], e.g. a grid of samples."""

    image: Tensor


@dataclass(frozen=True)
class PlotEntry:
    """A matplotlib figure; the logger closes it once written."""

    figure: Figure


LogEntry: TypeAlias = ScalarEntry | ScalarsEntry | ImageEntry | PlotEntry
"""Anything an evaluation may return."""


def scalar_values(name: str, entry: LogEntry) -> dict[str, float]:
    """The numbers in ``entry`` by full name; empty for images and plots."""
    if isinstance(entry, ScalarEntry):
        return {name: entry.value}
    if isinstance(entry, ScalarsEntry):
        return {f"{name}/{key}": value for key, value in entry.values.items()}
    return {}
