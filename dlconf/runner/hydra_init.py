"""Hydra's ``initialize(config_path=None)`` without its search for the caller.

``hydra.initialize`` finds its caller with ``inspect.stack()``, which builds a frame record
(file, module, source line) for every frame of the stack. With torch and Lightning loaded
(~3,800 modules) that costs ~0.09 s the first time, on every run (benchmarks/README.md). The
caller only names the job (``hydra.job.name``, the file's stem) and the folder of
configs beside it, which dlconf never has: every config is in the ConfigStore. So the caller
says who it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator

from hydra import version
from hydra._internal.hydra import Hydra
from hydra._internal.utils import detect_task_name
from hydra.initialize import get_gh_backup, restore_gh_from_backup

VERSION_BASE = "1.3"


@contextlib.contextmanager
def initialized(calling_file: str) -> Generator[None]:
    """Hydra set up to compose from the ConfigStore, as ``initialize(config_path=None)``
    called from ``calling_file``; the Hydra set up before is restored on exit."""
    backup = get_gh_backup()
    version.setbase(VERSION_BASE)
    try:
        Hydra.create_main_hydra_file_or_module(
            calling_file=calling_file,
            calling_module=None,
            config_path=None,
            job_name=detect_task_name(calling_file, None),
        )
        yield
    finally:
        restore_gh_from_backup(backup)
