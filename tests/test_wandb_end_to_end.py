"""The default logger end to end: ``python -m experiments.mnist_vae`` writes an offline W&B run.

One short run on MNIST-format IDX files with W&B offline (no network, no credentials, its
folders in a temporary home), then its ``.wandb`` file and saved files are read back.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_folders
from tests.wandb_files import OfflineRun, offline_environment, offline_runs, read_run


@pytest.fixture(scope="module")
def run_dir(mnist_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder of ``mnist_vae train_for="100 global_steps"`` with the default logger."""
    tmp = tmp_path_factory.mktemp("wandb_e2e")
    env = offline_environment(tmp)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            "train_for=100 global_steps",
            f"device.data_root={mnist_root}",
            "device.download_files=false",
            f"device.experiments_root={tmp / 'runs'}",
            "trainer.enable_progress_bar=false",
            "params.batch_size=64",
            "eval_params.elbo.n_samples=512",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = run_folders(tmp / "runs")
    return folder


@pytest.fixture(scope="module")
def run(run_dir: Path) -> OfflineRun:
    (folder,) = offline_runs(run_dir)
    return read_run(folder)


def test_the_wandb_run_lives_in_the_run_folder(run_dir: Path, run: OfflineRun) -> None:
    assert run.folder.parent == run_dir / "wandb"
    assert run.folder.name.startswith("offline-run-")


def test_config_has_flat_keys_sweeps_address_and_no_device(run: OfflineRun) -> None:
    assert run.config["params.beta"] == 0.5
    assert run.config["params.batch_size"] == 64
    assert run.config["optimization.model.beta"] == 0.5
    assert run.config["eval_params.elbo.n_samples"] == 512
    assert run.config["train_for"] == "100 global_steps"
    assert [key for key in run.config if key.startswith(("device.", "logger.", "hydra."))] == []
    assert "optimization.num_workers" not in run.config  # ${device.num_workers}: the machine's


def test_history_holds_training_losses_against_the_global_step(run: OfflineRun) -> None:
    losses = run.rows_with("Train/loss")
    assert losses, "Lightning's self.log metrics reach W&B"
    assert all(row["Train/loss"] > 0 for row in losses)
    assert max(row["trainer/global_step"] for row in losses) <= 100


def test_history_holds_evaluations_with_counters_beside_them(run: OfflineRun) -> None:
    rows = run.rows_with("ELBO/Validation")
    steps = [row["trainer/global_step"] for row in rows]
    assert steps[0] == 0 and steps[-1] == 100  # before the first step and after the last
    assert rows[-1]["ELBO/Validation"] > rows[0]["ELBO/Validation"] + 100  # it learns
    assert {row["counters/iteration"] for row in rows} == set(steps)
    assert {"counters/epoch", "counters/global_step"} <= set(rows[-1])


@pytest.mark.parametrize("name", ["Images/Samples", "Images/Reconstructions"])
def test_history_holds_image_entries(run: OfflineRun, name: str) -> None:
    rows = run.rows_with(name)
    assert [row["trainer/global_step"] for row in rows][-1] == 100
    image = rows[-1][name]
    assert image["_type"] == "image-file"
    assert (run.files / image["path"]).read_bytes().startswith(b"\x89PNG")


def test_config_files_and_checkpoints_are_saved_with_the_run(
    run_dir: Path, run: OfflineRun
) -> None:
    checkpoints = sorted(path.name for path in (run_dir / "checkpoints").glob("*.ckpt"))
    assert "last.ckpt" in checkpoints
    saved = [
        "run_folder/config.yaml",
        "run_folder/resolved.yaml",
        *(f"run_folder/checkpoints/{name}" for name in checkpoints),
    ]
    assert set(saved) <= set(run.saved)
    for path in saved:
        original = run_dir / path.removeprefix("run_folder/")
        assert (run.files / path).read_bytes() == original.read_bytes()
    resolved = yaml.safe_load((run.files / "run_folder/resolved.yaml").read_text())
    assert resolved["params"]["beta"] == 0.5
