"""The GPUs this machine shows, so parallel trials get one each (``--jobs K``).

Read without importing torch (a sweep process starts many trials but trains none):
``CUDA_VISIBLE_DEVICES`` when it is set (SLURM and schedulers set it), else the GPUs
``nvidia-smi`` lists. None at all on a machine without NVIDIA's driver.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"


@functools.cache
def visible_devices() -> tuple[str, ...]:
    """The GPU ids a trial may be given in ``CUDA_VISIBLE_DEVICES``, in order."""
    given = os.environ.get(CUDA_VISIBLE_DEVICES)
    if given is not None:
        return tuple(part.strip() for part in given.split(",") if part.strip())
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    try:
        listed = subprocess.run(
            [smi, "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in listed.splitlines() if line.strip())
