"""Reloading a finished run: its model, a part of it, or its whole optimization, elsewhere.

One tiny real run (the command line, TensorBoard, MNIST-format IDX files, the default device)
is trained once; the tests reload from its folder in-process as another machine would
(``device="laptop"``) and compare with what the run itself logged and saved.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import Tensor

from devices.laptop import LAPTOP
from dlconf import ConfigError, DatasetNotFoundError, UnknownDeviceError, load_run
from dlconf.evaluation import ImageReconstructionEvaluation
from dlconf.models import VAE
from dlconf.optimization import AdamBatchOptimization
from experiments import sample_vae
from experiments.mnist.architectures import MNISTEncoder
from experiments.mnist.data import MNIST
from tests.conftest import ROOT, run_folders

STEPS = 20
RECONSTRUCTIONS = "Images/Reconstructions"


@pytest.fixture(scope="module")
def run_dir(mnist_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 20-step VAE run on the default device, reconstructions logged every 10."""
    runs = tmp_path_factory.mktemp("reload_runs")
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            f"train_for={STEPS} global_steps",
            "logger=tensorboard",
            f"device.data_root={mnist_root}",
            f"device.experiments_root={runs}",
            "device.download_files=false",
            "params.encoder_layers=[64]",
            "params.decoder_layers=[64]",
            "eval_params.elbo.every=10 global_steps",
            "eval_params.elbo.n_samples=256",
            "eval_params.samples.every=1 day",
            "eval_params.reconstruction.every=10 global_steps",
            "trainer.enable_progress_bar=false",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = run_folders(runs)
    return folder


def _logged_images(run_dir: Path, tag: str) -> dict[int, Tensor]:
    """The PNGs TensorBoard holds for ``tag``, decoded: step -> ``(H, W, 3)`` uint8."""
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    return {
        event.step: torch.from_numpy(
            np.array(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))
        )
        for event in events.Images(tag)
    }


def _as_logged(image: Tensor) -> Tensor:
    """A ``(3, H, W)`` image in [0, 1] as TensorBoard stores it: ``(H, W, 3)``, truncated."""
    return (image.permute(1, 2, 0) * 255).clamp(0, 255).to(torch.uint8)


def _checkpoint_weights(run_dir: Path, name: str = "last.ckpt") -> dict[str, Tensor]:
    checkpoint = torch.load(run_dir / "checkpoints" / name, map_location="cpu", weights_only=True)
    state: dict[str, Tensor] = checkpoint["state_dict"]
    return state


def _assert_same_weights(actual: dict[str, Tensor], expected: dict[str, Tensor]) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


# --- the model, on another device ----------------------------------------------------------


def test_the_model_reloaded_on_another_device_reconstructs_as_the_run_did_at_its_end(
    run_dir: Path, mnist_root: Path
) -> None:
    recorded = OmegaConf.load(run_dir / "config.yaml")
    assert OmegaConf.select(recorded, "device.data_root") == str(mnist_root) != LAPTOP.data_root

    model = load_run(run_dir, device="laptop")

    assert isinstance(model, VAE)
    assert not model.training
    # The run's own evaluator, on the same validation pictures, with the reloaded model.
    evaluation = load_run(run_dir, f"evaluation.{RECONSTRUCTIONS}.evaluation", device="laptop")
    assert isinstance(evaluation, ImageReconstructionEvaluation)
    holder = AdamBatchOptimization(
        model=model, data={"valid": MNIST(str(mnist_root), "valid")}, batch_size=64, lr=1e-3
    )
    reloaded = _as_logged(evaluation.evaluate(holder).image)
    logged = _logged_images(run_dir, RECONSTRUCTIONS)
    assert sorted(logged) == [0, 10, STEPS]
    assert reloaded.shape == logged[STEPS].shape == (62, 302, 3)  # 2 rows of 10 digits
    assert (reloaded.int() - logged[STEPS].int()).abs().max() <= 1
    # ...and the comparison can fail: the model of step 0 reconstructs differently.
    assert (reloaded.int() - logged[0].int()).abs().max() > 1


def test_a_part_of_the_model_reloads_with_its_own_weights_from_the_checkpoint(
    run_dir: Path,
) -> None:
    encoder = load_run(run_dir, "optimization.model.encoder", device="laptop")

    assert isinstance(encoder, MNISTEncoder)
    assert not encoder.training
    prefix = "model.encoder."
    expected = {
        key.removeprefix(prefix): value
        for key, value in _checkpoint_weights(run_dir).items()
        if key.startswith(prefix)
    }
    _assert_same_weights(encoder.state_dict(), expected)


def test_reloading_draws_nothing_from_the_callers_random_stream(run_dir: Path) -> None:
    state = torch.get_rng_state()
    load_run(run_dir, device="laptop")
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("checkpoint", ["last", "best", "best-20.ckpt", "last.ckpt"])
def test_a_checkpoint_is_chosen_as_last_best_or_by_file_name(
    run_dir: Path, checkpoint: str
) -> None:
    # Both of this run's checkpoints are of its last step (the monitored ELBO was logged
    # there), so every choice gives the same weights; the point is that each one resolves.
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "best-20.ckpt",
        "last.ckpt",
    ]
    model = load_run(run_dir, device="laptop", checkpoint=checkpoint)
    expected = {
        key.removeprefix("model."): value for key, value in _checkpoint_weights(run_dir).items()
    }
    _assert_same_weights(model.state_dict(), expected)


# --- the whole optimization, with this machine's data ---------------------------------------


def test_the_whole_optimization_reloads_with_its_counters_and_this_machines_data(
    run_dir: Path, mnist_root: Path, tmp_path: Path
) -> None:
    # The data moved: this machine keeps it under another folder (a link to the same files).
    here = tmp_path / "data_here"
    here.symlink_to(mnist_root, target_is_directory=True)

    optimization = load_run(
        run_dir,
        "optimization",
        device=dataclasses.replace(LAPTOP, data_root=str(here), download_files=False),
    )

    assert isinstance(optimization, AdamBatchOptimization)
    assert not optimization.training
    assert optimization.counters == {"iteration": STEPS}
    assert sorted(optimization.data) == ["test", "train", "valid"]
    assert len(optimization.data["valid"]) == 1000  # type: ignore[arg-type]
    _assert_same_weights(optimization.state_dict(), _checkpoint_weights(run_dir))


def test_the_data_is_read_from_this_machines_data_root_not_the_recorded_one(
    run_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "no_data_here"
    with pytest.raises(DatasetNotFoundError, match=re.escape(f"not found in {elsewhere}/MNIST")):
        load_run(
            run_dir,
            "optimization",
            device=dataclasses.replace(LAPTOP, data_root=str(elsewhere), download_files=False),
        )


# --- the example script ---------------------------------------------------------------------


def test_the_sample_script_writes_a_square_grid_of_samples(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "pictures" / "samples.png"
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "experiments.sample_vae", str(run_dir)),
            *("--out", str(out), "--n", "16", "--device", "laptop"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"wrote 16 samples to {out}"
    with Image.open(out) as image:
        # 4 x 4 digits of 28 pixels, 2 pixels of padding around each (torchvision's grid).
        assert image.format == "PNG"
        assert image.size == (4 * (28 + 2) + 2, 4 * (28 + 2) + 2)


def test_the_sample_script_reports_a_bad_run_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        sample_vae.main([str(tmp_path / "nope"), "--out", str(tmp_path / "s.png")])

    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: no run folder at {tmp_path / 'nope'}; give a run folder")
    assert not (tmp_path / "s.png").exists()


# --- what goes wrong, and what the message says ---------------------------------------------


def test_a_missing_folder_is_named_with_what_to_give_instead(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_run(tmp_path / "nope")
    assert str(error.value) == (
        f"no run folder at {tmp_path / 'nope'}; give a run folder "
        "(<experiments_root>/<project>/<name>/<date>_<time>) "
        "or a W&B run path entity/project/run_id"
    )


def test_the_folder_above_a_run_lists_the_runs_in_it(run_dir: Path) -> None:
    with pytest.raises(ConfigError, match=f"the runs in it: {run_dir.name}"):
        load_run(run_dir.parent)


def test_a_misspelt_component_suggests_the_close_names(run_dir: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_run(run_dir, "optimization.modle", device="laptop")
    message = str(error.value)
    assert message.startswith(
        "component 'optimization.modle' is not in the run (did you mean 'optimization.model'"
    )
    assert "optimization.model.encoder, optimization.model.decoder" in message


def test_a_value_is_not_a_component(run_dir: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"component 'params\.beta' names a value, not a component"
    ):
        load_run(run_dir, "params.beta", device="laptop")


def test_an_unknown_device_lists_the_known_ones(run_dir: Path) -> None:
    with pytest.raises(UnknownDeviceError) as error:
        load_run(run_dir, device="laptpo")
    assert str(error.value).startswith(
        "unknown device in load_run(device='laptpo') (did you mean 'laptop'?). "
        "Known devices: cluster, default, laptop, workstation."
    )


def test_an_unknown_checkpoint_lists_the_saved_ones(run_dir: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_run(run_dir, device="laptop", checkpoint="bset")
    assert "no 'bset' checkpoint in" in str(error.value)
    assert "(did you mean 'best'?); there are: best-20.ckpt, last.ckpt." in str(error.value)


def test_a_run_without_checkpoints_says_so(run_dir: Path, tmp_path: Path) -> None:
    shutil.copy(run_dir / "config.yaml", tmp_path / "config.yaml")
    with pytest.raises(ConfigError, match=r"no 'last' checkpoint in .*; there are none\."):
        load_run(tmp_path, device="laptop")


# --- W&B run paths (no server here) ---------------------------------------------------------


def test_a_wandb_run_path_offline_fails_with_one_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ConfigError) as error:
        load_run("my-team/VAE_experiments/1a2b3c4d", device="laptop")
    assert str(error.value).startswith(
        "'my-team/VAE_experiments/1a2b3c4d' is not a folder here, so it names a W&B run; "
        "it cannot be downloaded: WANDB_MODE=offline, and the cache "
        f"{tmp_path / 'cache' / 'dlconf' / 'wandb' / 'my-team' / 'VAE_experiments' / '1a2b3c4d'}"
        " does not hold it."
    )


def test_a_wandb_run_path_without_credentials_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("WANDB_MODE", "WANDB_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(ConfigError, match=r"no W&B credentials \(WANDB_API_KEY or `wandb login`\)"):
        load_run("my-team/VAE_experiments/1a2b3c4d", device="laptop")


def test_a_wandb_run_already_in_the_cache_reloads_offline(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The layout the W&B logger saves and a download reproduces: <cache>/run_folder/...
    cached = tmp_path / "cache" / "dlconf" / "wandb" / "my-team" / "VAE_experiments" / "1a2b3c4d"
    shutil.copytree(run_dir, cached / "run_folder", ignore=shutil.ignore_patterns("tensorboard"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    model = load_run("my-team/VAE_experiments/1a2b3c4d", device="laptop")

    expected = {
        key.removeprefix("model."): value for key, value in _checkpoint_weights(run_dir).items()
    }
    _assert_same_weights(model.state_dict(), expected)


class _FakeFile:
    """A file of a W&B run, served from a local folder as W&B's public API would."""

    def __init__(self, name: str, source: Path) -> None:
        self.name = name
        self._source = source

    def download(self, root: str = ".", replace: bool = False, exist_ok: bool = False) -> io.IOBase:
        target = Path(root) / self.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self._source, target)
        return open(target)  # W&B's download returns the open file too


def test_a_wandb_run_is_downloaded_into_the_cache_then_reloaded(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wandb

    # The run's files as the W&B logger saves them: the run folder under run_folder/.
    files = [
        _FakeFile(f"run_folder/{path.relative_to(run_dir).as_posix()}", path)
        for path in [run_dir / "config.yaml", *(run_dir / "checkpoints").iterdir()]
    ] + [_FakeFile("output.log", run_dir / "command.txt")]
    asked: list[str] = []

    class FakeApi:
        def __init__(self, timeout: int | None = None) -> None:
            del timeout

        def run(self, path: str) -> object:
            asked.append(path)
            return type("Run", (), {"files": lambda _self: files})()

    monkeypatch.setattr(wandb, "Api", FakeApi)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_API_KEY", "not-a-real-key")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    model = load_run("my-team/VAE_experiments/runs/1a2b3c4d", device="laptop", checkpoint="best")

    assert asked == ["my-team/VAE_experiments/1a2b3c4d"]
    cached = tmp_path / "cache" / "dlconf" / "wandb" / "my-team" / "VAE_experiments" / "1a2b3c4d"
    # Only what was asked for: the config and the best checkpoint.
    assert sorted(p.relative_to(cached).as_posix() for p in cached.rglob("*") if p.is_file()) == [
        "run_folder/checkpoints/best-20.ckpt",
        "run_folder/config.yaml",
    ]
    expected = {
        key.removeprefix("model."): value
        for key, value in _checkpoint_weights(run_dir, "best-20.ckpt").items()
    }
    _assert_same_weights(model.state_dict(), expected)
