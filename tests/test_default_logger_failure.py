"""A run with the default logger (W&B) that fails before training leaves nothing behind.

The runner builds the model and data before the logger, so a failure there ends with one
line and exit code 2, and leaves no run folder and no W&B files: neither in the run folder
nor in the working directory, where W&B writes when it is given no folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_a_failing_run_with_the_default_logger_exits_with_one_line_and_writes_nothing(
    tmp_path: Path,
) -> None:
    # The data root is missing: the run folder exists, then building the data fails.
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME" and "WANDB" not in k}
    env.update(PYTHONPATH=str(ROOT), WANDB_MODE="offline")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            f"device.data_root={tmp_path / 'nothing'}",
            "device.download_files=false",
            f"device.experiments_root={tmp_path / 'runs'}",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr  # one line: no thread's traceback
    assert str(tmp_path / "nothing") in result.stderr
    assert not (tmp_path / "runs").exists()
    assert list(work.iterdir()) == [], "W&B wrote nothing into the working directory"
