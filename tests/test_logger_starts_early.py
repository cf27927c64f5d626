"""W&B's service starts while the run is built; a run that fails meanwhile leaves nothing.

The runner starts W&B (its import and service process, about a second) in a thread before it
builds the model and data, and creates the W&B run only after them. These tests pin that a
failure in between is still "nothing half-written": no run folder, no W&B run files, one
line and exit code 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from omegaconf import open_dict

from dlconf.errors import ConfigError
from dlconf.runner.job import train
from dlconf.runner.opening import RunConfig, new_run
from tests.conftest import ROOT

SERVICE_THREAD = "wandb-service-start"  # the thread WandbEntryLogger.start_early starts


class DataAfterWandbStarted:
    """A data split whose construction fails, once W&B's service is up (so deterministically
    after the early start, not before it)."""

    def __init__(self, split: str, size: int | None = None, seed: int = 0) -> None:
        del split, size, seed
        # No such thread when an earlier test in this process started W&B's service already:
        # then it is up, as the test checks after the failure.
        for starting in [t for t in threading.enumerate() if t.name == SERVICE_THREAD]:
            starting.join(timeout=60)
        raise ConfigError("data.train: the data set is damaged (a test's failure)")


def _service_processes() -> list[str]:
    """Command lines of this process's children that are W&B's service (``wandb-core``)."""
    found: list[str] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        if parent == os.getpid() and "wandb-core" in command:
            found.append(command)
    return found


@pytest.fixture
def offline_wandb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """W&B offline with its folders in tmp_path, no credentials from the environment."""
    for variable in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    for variable in ("WANDB_API_KEY", "WANDB_BASE_URL", "WANDB_ENTITY", "WANDB_PROJECT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_a_run_failing_after_the_service_started_leaves_no_folder_and_no_wandb_run(
    offline_wandb: None, tmp_path: Path
) -> None:
    from benchmarks.workloads import config

    runs = tmp_path / "runs"
    cfg = config("mnist_vae", ["data=synthetic", f"device.experiments_root={runs}"])
    assert cfg.logger._target_ == "dlconf.loggers.wandb.WandbEntryLogger"  # the default
    with open_dict(cfg):
        cfg.data.train._target_ = f"{__name__}.{DataAfterWandbStarted.__qualname__}"
    run = RunConfig.check(cfg)
    folder = new_run(run, [])
    assert folder.path.is_dir()

    with pytest.raises(ConfigError, match="the data set is damaged"):
        train(run, folder)

    assert _service_processes(), "W&B's service was running when the build failed"
    assert not folder.path.exists()
    assert [path for path in runs.rglob("*") if not path.is_dir()] == []
    assert not list(tmp_path.rglob("offline-run-*")), "no W&B run was created"
    assert not list(tmp_path.rglob("run-*.wandb"))


def test_a_failing_run_with_the_default_logger_exits_with_one_line_and_writes_nothing(
    tmp_path: Path,
) -> None:
    # The data root is missing: the run fails building its data, with W&B starting beside.
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
