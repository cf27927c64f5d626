"""What ran, recorded in the run folder: code version, packages, command line, device.

``record.json`` holds the git commit (and whether the work tree had uncommitted changes),
the versions of the packages that decide the numbers, the command that reruns the run
(``python -m experiments.mnist_vae params.beta=0.1``, from the working directory recorded
beside it), its overrides, the ``DEVICE_NAME``, the host, the SLURM job and the run's id (the
W&B run id too). A resumed run appends its own entry, so the file tells the run's whole
history.
"""

from __future__ import annotations

import os
import platform
import secrets
import socket
import string
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from dlconf.devices import DEVICE_ENV_VAR
from dlconf.runner import slurm
from dlconf.runner.run_label import SWEEP_TRIAL_ENV_VAR

RUN_ID_LENGTH = 8
_RUN_ID_ALPHABET = string.ascii_lowercase + string.digits  # what W&B accepts as a run id
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


def new_run_id() -> str:
    """A fresh id for a run (and its W&B run): 8 lowercase letters and digits.

    Under a W&B sweep agent, the agent's ``WANDB_RUN_ID``: W&B ignores any other id there.
    """
    if agent_run_id := os.environ.get("WANDB_RUN_ID"):
        return agent_run_id
    return "".join(secrets.choice(_RUN_ID_ALPHABET) for _ in range(RUN_ID_LENGTH))


def record_entry(args: Sequence[str], *, run_id: str | None, resumed: bool) -> dict[str, Any]:
    """This process's entry for ``record.json``: ``args`` are the user's overrides."""
    return {
        "started": datetime.now().isoformat(timespec="seconds"),
        "resumed": resumed,
        "run_id": run_id,
        "command": rerun_command(args),
        "args": list(args),
        "cwd": os.getcwd(),
        "executable": sys.executable,
        "device_name": os.environ.get(DEVICE_ENV_VAR) or None,
        # Which sweep gave the overrides, if one did: `dlconf.compare --explain` says so.
        "sweep": os.environ.get("WANDB_SWEEP_ID") or os.environ.get(SWEEP_TRIAL_ENV_VAR) or None,
        "host": socket.gethostname(),
        "python": platform.python_version(),
        "git": git_state(Path.cwd()),
        "packages": package_versions(),
        "slurm_job_id": slurm.job_id(),
        "slurm_step_id": slurm.step_id(),
        "slurm_restart_count": slurm.restart_count(),
    }


def rerun_command(args: Sequence[str]) -> list[str]:
    """The command that runs this program again with ``args``, from the working directory.

    ``python -m experiments.mnist_vae``, as it was started; the interpreter's own path is
    left out (it is in the entry) so the command reads as it is typed.
    """
    import __main__

    spec = getattr(__main__, "__spec__", None)
    if spec is not None and spec.name:
        return ["python", "-m", spec.name.removesuffix(".__main__"), *args]
    script = Path(sys.argv[0])
    try:
        module = script.resolve().relative_to(Path.cwd().resolve()).with_suffix("")
        return ["python", "-m", ".".join(module.parts), *args]
    except ValueError:
        return ["python", str(script), *args]


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
