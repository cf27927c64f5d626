"""W&B starts beside the run: its service while the run is built, its run while training starts.

The runner starts W&B (its import and service process, about a second) in a thread before it
builds the model and data; the W&B run is created only after them, by the logger's writer
thread, while training goes on. These tests pin that a failure in between is still "nothing
half-written" (no run folder, no W&B run files, one line and a non-zero exit code), that
training does not wait for the W&B run, and that nothing logged meanwhile is lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from omegaconf import open_dict
from torch.optim.optimizer import register_optimizer_step_post_hook

from dlconf.errors import ConfigError
from dlconf.loggers.wandb import LAUNCH_INPUTS_MODULE, SERVICE_THREAD
from dlconf.runner.job import train
from dlconf.runner.opening import RunConfig, new_run
from tests.conftest import ROOT
from tests.wandb_files import offline_environment, offline_runs, read_run


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


def test_training_starts_before_the_wandb_run_exists_and_loses_nothing_logged_meanwhile(
    offline_wandb: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wandb

    from benchmarks.workloads import config

    first_step = threading.Event()
    real_init = wandb.init
    waited: list[bool] = []

    def init_after_the_first_step(*args: object, **kwargs: object) -> object:
        # Were training waiting for the W&B run, no step could come: the wait times out.
        waited.append(first_step.wait(timeout=120))
        return real_init(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(wandb, "init", init_after_the_first_step)
    hook = register_optimizer_step_post_hook(lambda *_: first_step.set())
    runs = tmp_path / "runs"
    cfg = config(
        "mnist_vae",
        ["data=synthetic", f"device.experiments_root={runs}", "train_for=3 global_steps"],
    )
    run = RunConfig.check(cfg)
    folder = new_run(run, [])
    try:
        train(run, folder)
    finally:
        hook.remove()

    assert waited == [True], "the W&B run was created after the first step, once"
    (offline,) = offline_runs(folder.path)
    logged = read_run(offline)
    assert logged.config["params.beta"] == 0.5  # the config, recorded before training
    # The evaluations at step 0 ran before the W&B run existed: their rows were kept.
    assert [row["trainer/global_step"] for row in logged.rows_with("ELBO/Validation")] == [0, 3]
    assert "run_folder/config.yaml" in logged.saved


def test_a_wandb_run_that_cannot_start_ends_with_one_line_and_leaves_no_folder(
    tmp_path: Path,
) -> None:
    # Online without an API key: wandb.init fails at once, with no network needed.
    work = tmp_path / "work"
    work.mkdir()
    env = offline_environment(tmp_path, WANDB_MODE="online", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            "data=synthetic",
            "train_for=30 global_steps",
            f"device.experiments_root={tmp_path / 'runs'}",
        ],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: W&B could not start the run (UsageError: ")
    assert "WANDB_MODE=offline" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert [path for path in (tmp_path / "runs").rglob("*") if not path.is_dir()] == []
    assert list(work.iterdir()) == []


def test_a_wandb_run_does_not_import_wandb_launch(tmp_path: Path) -> None:
    # wandb.init imports all of W&B Launch to apply job inputs only Launch code can stage.
    code = f"""
import sys
from dlconf.loggers.wandb import WandbEntryLogger
logger = WandbEntryLogger(save_dir={str(tmp_path)!r}, project="p")
logger.log_metrics({{"loss": 1.5}}, step=0)
logger.finalize("success")
print({LAUNCH_INPUTS_MODULE!r} in sys.modules)
"""
    env = offline_environment(tmp_path, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    (offline,) = offline_runs(tmp_path)
    assert read_run(offline).rows_with("loss")[0]["loss"] == 1.5
