"""Every module in ``devices/`` registers its device by being there.

A user adds ``devices/my_laptop.py`` with ``@register_device("my_laptop")`` and selects it
with ``DEVICE_NAME``; ``devices/__init__.py`` stays as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import devices

ROOT = Path(__file__).parents[1]

MY_LAPTOP = """
from dataclasses import dataclass

from dlconf import Device, register_device


@register_device("my_laptop")
@dataclass(frozen=True)
class MyLaptop(Device):
    data_root: str = "/my/laptop/datasets"
    num_workers: int = 3
"""


def test_shipped_devices_are_all_imported() -> None:
    assert devices.DEVICE_MODULES == ("cluster", "default", "laptop", "workstation")


def test_a_new_device_module_is_found_without_editing_init(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "devices", project / "devices", ignore=shutil.ignore_patterns("__pycache__")
    )
    (project / "devices" / "my_laptop.py").write_text(MY_LAPTOP)
    assert (project / "devices" / "__init__.py").read_text() == (
        ROOT / "devices" / "__init__.py"
    ).read_text()
    env = {
        **os.environ,
        "DEVICE_NAME": "my_laptop",
        # The copy first: it shadows the repository's devices/, the rest still comes from ROOT.
        "PYTHONPATH": os.pathsep.join([str(project), str(ROOT)]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "experiments.mnist_vae", "--cfg", "job"],
        cwd=tmp_path,  # not ROOT: `python -m` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "data_root: /my/laptop/datasets" in result.stdout
    assert "num_workers: 3" in result.stdout
