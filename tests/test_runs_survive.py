"""Runs that survive: kills, preemption, NaN losses; determinism and the run's record.

Each test runs the real command line on MNIST-format IDX files, the way a cluster job
would, and checks files, logs and weights afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import ROOT, run_folders

STEPS = 300  # a few seconds of training: long enough to be killed halfway
COMMON = [
    "logger=tensorboard",
    "trainer.enable_progress_bar=false",
    "device.download_files=false",
    "params.encoder_layers=[128]",
    "params.decoder_layers=[128]",
    "params.batch_size=64",
    "eval_params.elbo.every=100 global_steps",
    "eval_params.elbo.n_samples=256",
    "eval_params.samples.every=1 day",
    "eval_params.reconstruction.every=1 day",
    "checkpoint.every=20 global_steps",
]


def _start(module: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _vae(mnist_root: Path, runs: Path, *extra: str) -> list[str]:
    return [
        f"train_for={STEPS} global_steps",
        f"device.data_root={mnist_root}",
        f"device.experiments_root={runs}",
        *COMMON,
        *extra,
    ]


def _finish(process: subprocess.Popen[str], timeout: float = 600) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def _checkpoint(run_dir: Path, name: str = "last.ckpt") -> dict[str, object]:
    loaded = torch.load(run_dir / "checkpoints" / name, map_location="cpu", weights_only=False)
    assert isinstance(loaded, dict)
    return loaded


def _wait_for_step(run_root: Path, step: int, process: subprocess.Popen[str]) -> Path:
    """Poll until the run's last.ckpt is at ``step`` or later; returns the run folder."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1][-2000:]
        for folder in run_folders(run_root):
            last = folder / "checkpoints" / "last.ckpt"
            if last.is_file():
                try:
                    if int(_checkpoint(folder)["global_step"]) >= step:  # type: ignore[call-overload]
                        return folder
                except Exception:
                    pass
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint at step {step} in time")


def _scalars(run_dir: Path, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


@pytest.fixture(scope="module")
def uninterrupted(mnist_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("uninterrupted")
    code, stderr = _finish(_start("experiments.mnist_vae", *_vae(mnist_root, runs)))
    assert code == 0, stderr[-3000:]
    (folder,) = run_folders(runs)
    return folder


def test_a_killed_run_resumes_to_the_same_weights_and_logs(
    mnist_root: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    process = _start("experiments.mnist_vae", *_vae(mnist_root, runs))
    folder = _wait_for_step(runs, 40, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = int(_checkpoint(folder)["global_step"])  # type: ignore[call-overload]
    assert 40 <= killed_at < STEPS

    code, stderr = _finish(
        _start(
            "experiments.mnist_vae",
            f"resume={folder}",
            f"device.data_root={mnist_root}",
        )
    )
    assert code == 0, stderr[-3000:]

    resumed, reference = _checkpoint(folder), _checkpoint(uninterrupted)
    assert resumed["global_step"] == reference["global_step"] == STEPS
    assert resumed["dlconf_counters"] == reference["dlconf_counters"] == {"iteration": STEPS}
    weights, expected = resumed["state_dict"], reference["state_dict"]
    assert isinstance(weights, dict) and isinstance(expected, dict)
    for name, value in expected.items():
        torch.testing.assert_close(weights[name], value, rtol=1e-4, atol=1e-5, msg=name)
    # The logs read as one run: every evaluation step once, with the same values.
    logged, reference_log = (
        _scalars(folder, "ELBO/Validation"),
        _scalars(uninterrupted, "ELBO/Validation"),
    )
    assert [step for step, _ in logged] == [step for step, _ in reference_log] == [0, 100, 200, 300]
    assert [v for _, v in logged] == pytest.approx([v for _, v in reference_log], rel=1e-4)
    assert [step for step, _ in _scalars(folder, "Train/loss")] == [
        step for step, _ in _scalars(uninterrupted, "Train/loss")
    ]
    record = json.loads((folder / "record.json").read_text())
    assert [entry["resumed"] for entry in record] == [False, True]


def test_ctrl_c_saves_last_ckpt_and_resume_reaches_the_same_weights(
    mnist_root: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    process = _start("experiments.mnist_vae", *_vae(mnist_root, runs))
    folder = _wait_for_step(runs, 40, process)
    process.send_signal(signal.SIGINT)  # Ctrl-C: finish the step, save, say how to continue
    code, stderr = _finish(process)
    assert code == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    stopped_at = int(_checkpoint(folder)["global_step"])  # type: ignore[call-overload]
    assert 40 <= stopped_at < STEPS
    resume = f"python -m experiments.mnist_vae resume={folder}"
    assert f"stopped by Ctrl-C; the checkpoint is saved: continue with {resume}\n" in stderr

    # Resumed without repeating device.data_root (recorded on this machine), with a
    # display-only flag; the result is the uninterrupted run's.
    code, stderr = _finish(
        _start("experiments.mnist_vae", f"resume={folder}", "trainer.enable_progress_bar=false")
    )
    assert code == 0, stderr[-3000:]
    resumed, reference = _checkpoint(folder), _checkpoint(uninterrupted)
    assert resumed["global_step"] == reference["global_step"] == STEPS
    weights, expected = resumed["state_dict"], reference["state_dict"]
    assert isinstance(weights, dict) and isinstance(expected, dict)
    for name, value in expected.items():
        torch.testing.assert_close(weights[name], value, rtol=1e-4, atol=1e-5, msg=name)
    assert [step for step, _ in _scalars(folder, "ELBO/Validation")] == [0, 100, 200, 300]


def test_sigterm_saves_a_checkpoint_newer_than_the_signal(mnist_root: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    process = _start(
        "experiments.mnist_vae", *_vae(mnist_root, runs, "checkpoint.every=10 global_steps")
    )
    folder = _wait_for_step(runs, 10, process)  # training is under way
    signalled = time.time()
    process.send_signal(signal.SIGTERM)
    code, stderr = _finish(process)
    assert code == 143, stderr[-3000:]
    assert "resume=" in stderr
    last = folder / "checkpoints" / "last.ckpt"
    assert last.stat().st_mtime > signalled
    assert 10 <= int(_checkpoint(folder)["global_step"]) < STEPS  # type: ignore[call-overload]


def test_a_nan_loss_stops_with_the_step_and_component_and_keeps_the_last_good_checkpoint(
    mnist_root: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    code, stderr = _finish(
        _start(
            "tests.exploding_experiment",
            "params.explode_at=15",
            "checkpoint.every=4 global_steps",
            f"device.data_root={mnist_root}",
            f"device.experiments_root={runs}",
            "trainer.enable_progress_bar=false",
            "logger=tensorboard",
        )
    )
    assert code == 3, stderr[-3000:]
    assert "error: non-finite loss at global step 14: loss=nan, regularization=nan" in stderr
    assert "Traceback" not in stderr
    (folder,) = run_folders(runs)
    checkpoint = _checkpoint(folder)
    assert checkpoint["global_step"] == 12  # the last save before the NaN
    state = checkpoint["state_dict"]
    assert isinstance(state, dict)
    assert all(bool(torch.isfinite(value).all()) for value in state.values())


def test_same_seed_same_losses(mnist_root: Path, uninterrupted: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    code, stderr = _finish(_start("experiments.mnist_vae", *_vae(mnist_root, runs)))
    assert code == 0, stderr[-3000:]
    (again,) = run_folders(runs)
    for tag in ("Train/loss", "ELBO/Validation", "ELBO/Train"):
        assert _scalars(again, tag) == _scalars(uninterrupted, tag)


def test_the_run_records_code_packages_command_and_device(uninterrupted: Path) -> None:
    (entry,) = json.loads((uninterrupted / "record.json").read_text())
    assert entry["git"] is None or len(entry["git"]["commit"]) == 40
    assert entry["packages"]["torch"] == metadata.version("torch")
    assert f"train_for={STEPS} global_steps" in entry["command"]
    assert entry["device_name"] is None
    assert entry["resumed"] is False


def test_two_process_cpu_ddp_logs_and_checkpoints_once(mnist_root: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    overrides = _vae(
        mnist_root, runs, "train_for=50 global_steps", "eval_params.elbo.every=25 global_steps"
    )
    code, stderr = _finish(
        _start(
            "experiments.mnist_vae",
            "trainer.devices=2",
            "trainer.strategy=ddp",
            "trainer.accelerator=cpu",
            *overrides,
        )
    )
    assert code == 0, stderr[-3000:]
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in stderr  # two processes took part
    (folder,) = run_folders(runs)  # rank 1 used rank 0's run folder
    assert len(list((folder / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert [step for step, _ in _scalars(folder, "ELBO/Validation")] == [0, 25, 50]
    checkpoint = _checkpoint(folder)
    assert checkpoint["global_step"] == 50
    assert checkpoint["dlconf_counters"] == {"iteration": 50}
    # 5,000 training images in batches of 64 are 79 batches, but each of the 2 ranks
    # takes half the split: 40 batches an epoch, so step 50 is in the second epoch (and
    # Lightning counts the stopped epoch as done: epoch 2; without the split it would be 1).
    assert checkpoint["epoch"] == 2
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == [
        "best-50.ckpt",
        "last.ckpt",
    ]
