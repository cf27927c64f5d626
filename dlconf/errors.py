"""Errors a user can cause and act on.

Each one is raised with a message that names the bad key or value and what would be valid;
the runner prints that message alone and exits with code 2 (the convention for usage
errors), never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DlconfError(Exception):
    """Base of every error dlconf raises on purpose."""

    exit_code: int = 1
    """The command line's exit status when this error ends a run."""


class ConfigError(DlconfError):
    """A configuration or command-line mistake, found before anything is built."""

    exit_code = 2


class DurationError(ConfigError):
    """A duration string such as ``"30 minuts"`` that does not parse."""


class UnknownDeviceError(ConfigError):
    """A ``DEVICE_NAME`` or ``device=`` that names no registered device."""


class DatasetNotFoundError(DlconfError):
    """A data set that is neither on disk nor downloadable."""

    exit_code = 2


class DatasetDamagedError(DlconfError):
    """A data set whose files are on disk but damaged: cut short, of another kind, mismatched."""

    exit_code = 2


class NonFiniteLossError(DlconfError):
    """Training produced a NaN or infinite loss; the last good checkpoint is kept."""

    exit_code = 3


def close_matches(word: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` when nothing is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"
