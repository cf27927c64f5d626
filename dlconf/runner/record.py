"""What ran, recorded in the run folder: code version, packages, command line, device.

``record.json`` holds the git commit (and whether the work tree had uncommitted changes),
the versions of the packages that decide the numbers, the full command line, the
``DEVICE_NAME`` and the host. A resumed run appends its own entry, so the file tells the
run's whole history.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from dlconf.devices import DEVICE_ENV_VAR

RECORD_FILE = "record.json"
PACKAGES = (
    "dlconf",
    "torch",
    "torchvision",
    "lightning",
    "hydra-core",
    "hydra-zen",
    "omegaconf",
    "numpy",
    "wandb",
    "tensorboard",
)


def write_record(run_dir: Path, *, resumed: bool = False) -> dict[str, Any]:
    """Append this process's entry to ``run_dir/record.json``; returns the entry."""
    entry = {
        "started": datetime.now().isoformat(timespec="seconds"),
        "resumed": resumed,
        "command": [sys.executable, *sys.argv],
        "cwd": os.getcwd(),
        "device_name": os.environ.get(DEVICE_ENV_VAR),
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "git": git_state(Path.cwd()),
        "packages": package_versions(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
    path = run_dir / RECORD_FILE
    history: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    history.append(entry)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(history, indent=2) + "\n")
    tmp.replace(path)
    return entry


def git_state(where: Path) -> dict[str, Any] | None:
    """``{"commit": ..., "dirty": ...}`` of the repository holding ``where``, or None."""
    try:
        commit = _git(where, "rev-parse", "HEAD")
        status = _git(where, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": commit, "dirty": bool(status)}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(where: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=where, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()
