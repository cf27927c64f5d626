"""Errors a user can cause and act on.

Each one is raised with a message that names the bad key or value and what would be valid;
the runner prints that message alone (:func:`exit_with`) and exits with the error's code,
never a traceback:

- 2: a mistake in the command line or the config, found before anything is built;
- 3: training diverged (a non-finite loss, gradient or parameter); the last good
  checkpoint is kept;
- 74 (``EX_IOERR``): the file system refused a write (read-only, full, no permission).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable
from typing import NoReturn


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


class NonFiniteError(DlconfError):
    """Training diverged: a loss, gradient or parameter became NaN or infinite.

    Raised before the bad values reach a checkpoint, so the last one saved is good.
    """

    exit_code = 3


class NonFiniteLossError(NonFiniteError):
    """Training produced a NaN or infinite loss; the last good checkpoint is kept."""


class LoggerStartError(DlconfError):
    """The logger could not start its run (W&B: login, network, entity); a new run folder is
    removed, as for a failure before training."""


class StorageError(DlconfError):
    """The file system refused a write of the run (read-only, full, no permission)."""

    exit_code = 74  # EX_IOERR in sysexits.h


def exit_with(error: DlconfError) -> NoReturn:
    """Print ``error`` as the user should read it and exit with its code (2: bad input)."""
    sys.stderr.write(f"error: {error}\n")
    sys.exit(error.exit_code)


def close_matches(word: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` when nothing is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"
