"""The CelebA experiments, run from the command line as a user would.

Small images (``params.image_size=[40,32]`` with layer lists that fit it, given on the
command line as a user would) keep the runs short. On a copy of CelebA in torchvision's
layout, both experiments train and leave their files; on the synthetic faces, the runs are
long enough to show learning: the VAE's validation ELBO rises, and the VIB's validation
landmark error falls well below the error of always guessing the mean landmarks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from experiments.celeba.synthetic import SyntheticFaces
from tests.celeba_files import write_celeba
from tests.conftest import RunExperiment, run_folders

SMALL = (
    "params.image_size=[40,32]",
    # The 40 x 40 frame down to 64 x 1 x 1 and back, as the seed's lists do for 218 x 218.
    "params.encoder_layers=["
    "{in_channels:3,out_channels:16,kernel_size:4,stride:2},"
    "{in_channels:16,out_channels:32,kernel_size:5,stride:2},"
    "{in_channels:32,out_channels:64,kernel_size:8,stride:1}]",
    "params.z_dim=16",
    "params.batch_size=32",
    "params.lr=1e-3",
    "logger=tensorboard",
)
SMALL_DECODER = (
    "params.decoder_layers=["
    "{in_channels:64,out_channels:32,kernel_size:8,stride:1},"
    "{in_channels:32,out_channels:16,kernel_size:5,stride:2},"
    "{in_channels:16,out_channels:3,kernel_size:4,stride:2}]"
)
SYNTHETIC = ("data=synthetic", "data.train.size=4000", "data.valid.size=500", "data.test.size=50")


def _events(run_dir: Path) -> EventAccumulator:
    accumulator = EventAccumulator(
        str(run_dir / "tensorboard"), size_guidance={"images": 0, "scalars": 0}
    )
    accumulator.Reload()
    return accumulator


def _values(run_dir: Path, tag: str) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in _events(run_dir).Scalars(tag)]


def _only_run(runs: Path) -> Path:
    (folder,) = run_folders(runs)
    return folder


@pytest.fixture(scope="module")
def celeba_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding celeba/ in torchvision's layout: 300 full-size JPEGs, five tables."""
    root = tmp_path_factory.mktemp("datasets")
    write_celeba(root, 300)
    return root


@pytest.mark.parametrize(
    ("name", "extra", "images", "scalar"),
    [
        (
            "celeba_vae",
            (SMALL_DECODER, "eval_params.elbo.n_samples=64"),
            {"Images/Samples", "Images/Reconstructions"},
            "ELBO/Validation",
        ),
        (
            "celeba_vib_landmarks",
            ("params.predictor_layers=[128]", "eval_params.landmark_error.n_samples=64"),
            {"Images/Landmarks"},
            "LandmarkError/Validation",
        ),
    ],
)
def test_both_experiments_train_on_a_copy_in_torchvisions_layout(
    celeba_root: Path,
    run_experiment: RunExperiment,
    tmp_path: Path,
    name: str,
    extra: tuple[str, ...],
    images: set[str],
    scalar: str,
) -> None:
    result = run_experiment(
        name,
        *SMALL,
        *extra,
        "train_for=10 global_steps",
        f"device.data_root={celeba_root}",
        "device.download_files=false",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    folder = _only_run(tmp_path / "runs")
    assert (folder / "checkpoints" / "last.ckpt").is_file()
    events = _events(folder)
    assert images <= set(events.Tags()["images"])
    assert [step for step, _ in _values(folder, scalar)] == [0, 10]
    # The images were decoded once, at the run's size, into the cache beside the data.
    assert (celeba_root / "celeba" / "cache" / "pixels_40x32.u8").is_file()


def test_vae_validation_elbo_rises_on_synthetic_faces(
    run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment(
        "celeba_vae",
        *SMALL,
        SMALL_DECODER,
        *SYNTHETIC,
        "train_for=100 global_steps",
        "eval_params.elbo.every=50 global_steps",
        "eval_params.elbo.n_samples=256",
        "eval_params.samples.every=1000 global_steps",
        "eval_params.reconstruction.every=1000 global_steps",
        "params.sigma=0.1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    elbo = [value for _, value in _values(_only_run(tmp_path / "runs"), "ELBO/Validation")]
    assert len(elbo) == 3
    assert elbo[0] < elbo[1] < elbo[2]
    assert elbo[2] > elbo[0] + 1000  # nats per image: an untrained decoder is far off


def test_vib_landmark_error_falls_below_half_the_mean_guess_on_synthetic_faces(
    run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment(
        "celeba_vib_landmarks",
        *SMALL,
        *SYNTHETIC,
        "params.predictor_layers=[128]",
        "train_for=400 global_steps",
        "eval_params.landmark_error.every=1000 global_steps",
        "eval_params.landmark_error.n_samples=500",
        "eval_params.landmarks.every=1000 global_steps",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    error = _values(_only_run(tmp_path / "runs"), "LandmarkError/Validation")
    train = SyntheticFaces("train", size=4000, image_size=(40, 32)).landmarks  # (N, 10)
    valid = SyntheticFaces("valid", size=500, image_size=(40, 32)).landmarks
    mean_guess = (valid - train.mean(0)).reshape(-1, 5, 2).norm(dim=-1).mean().item()
    assert mean_guess > 3  # pixels: the faces move, a constant guess is poor
    assert error[0][1] > mean_guess  # untrained: worse than the mean
    assert error[-1][0] == 400
    assert error[-1][1] <= 0.5 * mean_guess


def test_one_layer_changed_on_the_command_line_is_checked_before_anything_runs(
    run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment(
        "celeba_vae", "data=synthetic", "params.encoder_layers.0.out_channels=32"
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: optimization: encoder layer 1 (64->128, kernel_size=7, stride=3, padding=0) "
        "takes in_channels=64, but layer 0 gives 32\n"
    )
    assert not (tmp_path / "runs").exists()


def test_missing_celeba_names_the_folder_with_no_run_folder(
    run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment(
        "celeba_vib_landmarks",
        f"device.data_root={tmp_path / 'nothing'}",
        "device.download_files=false",
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: CelebA not found in {tmp_path / 'nothing' / 'celeba'}")
    assert "list_landmarks_align_celeba.txt" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_help_lists_the_data_sets_and_layer_lists_in_override_grammar(
    run_experiment: RunExperiment,
) -> None:
    result = run_experiment("celeba_vae", "--help")
    assert result.returncode == 0, result.stderr
    for expected in (
        "data: celeba, synthetic  (default: celeba)",
        "params.beta=0.005",
        "params.image_size=[218,178]",
        "params.encoder_layers=[{in_channels:3,out_channels:64,kernel_size:5,stride:2,padding:0},",
        "{in_channels:64,out_channels:3,kernel_size:8,stride:2,padding:0}]",
        "eval_params.elbo.every='5 minutes'",
    ):
        assert expected in result.stdout
