"""A user's mistake is one line, wherever it is raised, even before ``main()`` runs.

An experiment module is ordinary Python: a misspelt argument or link, a refused
``__post_init__`` value or a component built instead of configured raises a
:class:`~dlconf.errors.DlconfError` while the module is still being imported, before the
runner can catch anything. Importing dlconf installs this hook, so such an error prints as
``error: <message>`` and exits with its code (2 for bad input), as the runner's own errors
do. Every other exception keeps Python's traceback: it is a bug, and the traceback is the
report.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType

from dlconf.errors import DlconfError

_installed = False


def report_user_errors_briefly() -> None:
    """Install the hook (once); other exceptions go to the hook that was there before."""
    global _installed
    if _installed:
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if not isinstance(error, DlconfError):
            previous(kind, error, tb)
            return
        sys.stdout.flush()
        sys.stderr.write(f"error: {error}\n")
        sys.stderr.flush()
        # An exception hook cannot choose the exit status (it is always 1 after it); the
        # status is the error's own, as when the runner reports it. Nothing is running yet.
        os._exit(error.exit_code)

    sys.excepthook = hook
    _installed = True
