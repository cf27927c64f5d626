"""The experiments, run from the command line as a user would, on MNIST-format IDX files.

The data are rendered digits written in MNIST's real on-disk format (see mnist_files.py),
read through torchvision's MNIST code path. The runs are short, but long enough to show
that training learns: the VAE's validation ELBO rises and the VIB classifies far above
chance (10%).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dlconf.runner.run_folder import RunFolder
from tests.conftest import ROOT, RunExperiment, run_folders


def _events(run_dir: Path) -> EventAccumulator:
    accumulator = EventAccumulator(
        str(run_dir / "tensorboard"), size_guidance={"images": 0, "scalars": 0}
    )
    accumulator.Reload()
    return accumulator


def _values(events: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in events.Scalars(tag)]


@pytest.fixture(scope="module")
def vae_run(mnist_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT  # noqa: F401  (keeps the module's imports explicit)

    runs = tmp_path_factory.mktemp("vae_runs")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            "train_for=100 global_steps",
            "logger=tensorboard",
            f"device.data_root={mnist_root}",
            "device.download_files=false",
            f"device.experiments_root={runs}",
            "trainer.enable_progress_bar=false",
            "params.batch_size=64",
            "eval_params.elbo.every=25 global_steps",
            "eval_params.elbo.n_samples=512",
        ],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k != "DEVICE_NAME"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = run_folders(runs)
    return folder


def test_vae_run_folder_holds_config_checkpoints_and_events(vae_run: Path) -> None:
    assert (vae_run / "checkpoints" / "last.ckpt").is_file()
    assert list((vae_run / "checkpoints").glob("best-*.ckpt"))
    assert list((vae_run / "tensorboard").glob("events.out.tfevents.*"))
    typed = yaml.safe_load((vae_run / "config.yaml").read_text())
    resolved = yaml.safe_load((vae_run / "resolved.yaml").read_text())
    assert typed["optimization"]["model"]["beta"] == "${params.beta}"
    assert resolved["optimization"]["model"]["beta"] == 0.5
    assert resolved["train_for"] == "100 global_steps"


def test_vae_logs_losses_evaluations_and_images(vae_run: Path) -> None:
    events = _events(vae_run)
    tags = events.Tags()
    assert {"Train/loss", "Train/reconstruction", "Train/regularization"} <= set(tags["scalars"])
    assert {"ELBO/Train", "ELBO/Validation", "EvaluationTime/ELBO"} <= set(tags["scalars"])
    assert {"Images/Samples", "Images/Reconstructions"} <= set(tags["images"])
    # Evaluated before the first step, every 25 steps, and after the last one: once each.
    assert [step for step, _ in _values(events, "ELBO/Validation")] == [0, 25, 50, 75, 100]


def test_vae_validation_elbo_rises(vae_run: Path) -> None:
    elbo = [value for _, value in _values(_events(vae_run), "ELBO/Validation")]
    assert elbo[-1] > elbo[0] + 100  # nats per image: an untrained decoder is far off
    assert elbo[-1] > elbo[1]


def test_vib_classifies_far_above_chance(
    mnist_root: Path, run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment(
        "mnist_vib",
        "train_for=300 global_steps",
        "logger=tensorboard",
        f"device.data_root={mnist_root}",
        "device.download_files=false",
        "params.batch_size=64",
        "eval_params.accuracy.every=100 global_steps",
        "eval_params.accuracy.n_samples=1000",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = run_folders(tmp_path / "runs")
    accuracy = _values(_events(folder), "Accuracy/Validation")
    assert accuracy[0][1] < 0.3  # untrained: about chance
    assert accuracy[-1][0] == 300
    assert accuracy[-1][1] > 0.8


def test_multirun_makes_one_run_folder_per_value(
    mnist_root: Path, run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment(
        "mnist_vae",
        "-m",
        "params.beta=0.1,1.0",
        "train_for=3 global_steps",
        f"device.data_root={mnist_root}",
        "logger=none",
        "eval_params.elbo.n_samples=64",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # No logger is a plain choice, not a failure: nothing says "Error" (Hydra's class lookup
    # once logged one for its function target).
    assert "Error" not in result.stdout + result.stderr
    folders = run_folders(tmp_path / "runs")
    assert list((tmp_path / "runs" / "multirun").glob("*/multirun.yaml"))  # the sweep's record
    assert not (ROOT / "multirun.yaml").exists()  # nothing in the working directory
    betas = sorted(
        yaml.safe_load((f / "resolved.yaml").read_text())["params"]["beta"] for f in folders
    )
    assert betas == [0.1, 1.0]
    # The folders say which job and value each is; the overrides all jobs share do not.
    labels = sorted(RunFolder(f).label for f in folders)
    assert labels == ["job0_beta=0.1", "job1_beta=1.0"]


def test_cfg_job_prints_the_composed_config_and_trains_nothing(
    run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment("mnist_vae", "--cfg", "job", "params.beta=0.25", "data=synthetic")
    assert result.returncode == 0, result.stderr
    printed = yaml.safe_load(result.stdout)
    assert printed["params"]["beta"] == 0.25
    assert printed["data"]["train"]["_target_"] == "experiments.mnist.synthetic.SyntheticDigits"
    assert not (tmp_path / "runs").exists()


def test_help_lists_groups_and_params_with_defaults(run_experiment: RunExperiment) -> None:
    result = run_experiment("mnist_vae", "--help")
    assert result.returncode == 0, result.stderr
    for expected in (
        "data: mnist, synthetic",
        "logger: none, tensorboard, wandb",
        "laptop",
        "params.beta=0.5",
        "params.batch_size=128",
        "eval_params.elbo.every='1 minute'",
    ):
        assert expected in result.stdout


def test_missing_data_set_is_a_clear_error_with_no_run_folder(
    run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment(
        "mnist_vae", f"device.data_root={tmp_path / 'nothing'}", "device.download_files=false"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert str(tmp_path / "nothing") in result.stderr
    assert "data=synthetic" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()
