"""WandbEntryLogger: entries, config, files and mode, read back from the offline run it wrote.

Every test runs W&B offline with its home, cache and config folders in tmp_path and no
credentials, so nothing reaches the network or the user's own W&B set-up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on test machines

import matplotlib.pyplot as plt
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import OmegaConf

from dlconf.evaluation import ImageEntry, PlotEntry, ScalarEntry, ScalarsEntry
from dlconf.loggers.base import ConfigRecorder, EntryLogger
from dlconf.loggers.wandb import WandbEntryLogger, has_credentials, wandb_mode
from tests.wandb_files import OfflineRun, offline_runs, read_run, records

COUNTERS_AT_3 = {"epoch": 0, "global_step": 3, "iteration": 30}
COUNTERS_AT_7 = {"epoch": 1, "global_step": 7, "iteration": 70}


@pytest.fixture(autouse=True)
def offline_wandb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """W&B offline, its folders in tmp_path, no credentials from the environment."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for variable, folder in [
        ("WANDB_DIR", "wandb_dir"),
        ("WANDB_CONFIG_DIR", "wandb_config"),
        ("WANDB_CACHE_DIR", "wandb_cache"),
        ("WANDB_DATA_DIR", "wandb_data"),
    ]:
        monkeypatch.setenv(variable, str(tmp_path / folder))
    for variable in ("WANDB_API_KEY", "WANDB_BASE_URL", "NETRC", "WANDB_ENTITY", "WANDB_PROJECT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")


def only_run(save_dir: Path) -> OfflineRun:
    (folder,) = offline_runs(save_dir)
    return read_run(folder)


@pytest.fixture
def entries_run(tmp_path: Path) -> OfflineRun:
    """An offline run after logging one entry of each kind at steps 3 and 7."""
    logger = WandbEntryLogger(save_dir=str(tmp_path / "run"), project="tests", name="entries")
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])

    logger.log("Loss", ScalarEntry(0.25), 3, COUNTERS_AT_3)
    logger.log("ELBO", ScalarsEntry({"Train": -80.5, "Validation": -90.0}), 3, COUNTERS_AT_3)
    logger.log("Images/Samples", ImageEntry(torch.rand(3, 8, 20)), 3, COUNTERS_AT_3)
    logger.log("Plots/Curve", PlotEntry(figure), 7, COUNTERS_AT_7)
    logger.finalize("success")

    assert not plt.fignum_exists(figure.number), "the logger closes figures it wrote"
    return only_run(tmp_path / "run")


def test_it_is_an_entry_logger_and_a_config_recorder(tmp_path: Path) -> None:
    logger = WandbEntryLogger(save_dir=str(tmp_path))
    assert isinstance(logger, EntryLogger)
    assert isinstance(logger, ConfigRecorder)


def test_the_run_is_written_under_save_dir_wandb(tmp_path: Path) -> None:
    logger = WandbEntryLogger(save_dir=str(tmp_path / "run"), project="tests")
    logger.log("Loss", ScalarEntry(1.0), 0, {})
    logger.finalize("success")

    (folder,) = offline_runs(tmp_path / "run")
    assert list(folder.glob("run-*.wandb"))
    assert not (tmp_path / "wandb_dir" / "wandb").exists()  # save_dir wins over WANDB_DIR


@pytest.mark.parametrize(
    ("key", "step", "value"),
    [
        ("Loss", 3, 0.25),
        ("ELBO/Train", 3, -80.5),
        ("ELBO/Validation", 3, -90.0),
    ],
)
def test_scalars_are_logged_under_their_names_at_their_step(
    entries_run: OfflineRun, key: str, step: int, value: float
) -> None:
    (row,) = entries_run.rows_with(key)
    assert row[key] == pytest.approx(value)
    assert row["trainer/global_step"] == step


def test_grouped_scalars_share_one_row(entries_run: OfflineRun) -> None:
    (row,) = entries_run.rows_with("ELBO/Train")
    assert row["ELBO/Validation"] == pytest.approx(-90.0)


@pytest.mark.parametrize(
    ("key", "size"),
    [
        ("Images/Samples", (20, 8)),  # (width, height) of the (3, 8, 20) image
        ("Plots/Curve", (640, 480)),  # matplotlib's default figure: 6.4 x 4.8 in at 100 dpi
    ],
)
def test_images_and_figures_are_logged_as_png_files_of_the_run(
    entries_run: OfflineRun, key: str, size: tuple[int, int]
) -> None:
    (row,) = entries_run.rows_with(key)
    image = row[key]
    assert image["_type"] == "image-file"
    assert (image["width"], image["height"]) == size
    assert (entries_run.files / image["path"]).read_bytes().startswith(b"\x89PNG")
    assert image["path"] in entries_run.saved


@pytest.mark.parametrize(
    ("key", "counters"),
    [
        ("Loss", COUNTERS_AT_3),
        ("ELBO/Train", COUNTERS_AT_3),
        ("Images/Samples", COUNTERS_AT_3),
        ("Plots/Curve", COUNTERS_AT_7),
    ],
)
def test_counters_are_logged_beside_every_entry(
    entries_run: OfflineRun, key: str, counters: dict[str, int]
) -> None:
    (row,) = entries_run.rows_with(key)
    assert {name: row[f"counters/{name}"] for name in counters} == counters
    assert row["trainer/global_step"] == counters["global_step"]


def test_image_pixels_are_the_entry_scaled_to_8_bits(tmp_path: Path) -> None:
    from PIL import Image

    grey = torch.tensor([[[0.0, 0.5, 1.0]]])  # (1, 1, 3)
    logger = WandbEntryLogger(save_dir=str(tmp_path))
    logger.log("Grey", ImageEntry(grey), 0, {})
    logger.finalize("success")

    run = only_run(tmp_path)
    (row,) = run.rows_with("Grey")
    with Image.open(run.files / row["Grey"]["path"]) as image:
        assert list(image.convert("L").tobytes()) == [0, 128, 255]


def test_record_config_sets_flat_keys_and_saves_the_run_folder_files(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("params:\n  beta: 0.5\n")
    (run_dir / "resolved.yaml").write_text("params:\n  beta: 0.5\n")
    cfg = OmegaConf.create(
        {
            "params": {"beta": 0.5},
            "model": {"beta": "${params.beta}", "workers": "${device.num_workers}"},
            "device": {"num_workers": 4},
        }
    )
    logger = WandbEntryLogger(save_dir=str(run_dir))
    logger.record_config(cfg, run_dir)
    logger.finalize("success")

    run = only_run(run_dir)
    assert run.config == {"params.beta": 0.5, "model.beta": 0.5}
    for name in ("config.yaml", "resolved.yaml"):
        assert f"run_folder/{name}" in run.saved
        saved = run.files / "run_folder" / name
        assert saved.read_text() == (run_dir / name).read_text()
        assert saved.resolve() == (run_dir / name).resolve(), "a link, not a copy"


@pytest.mark.parametrize(("status", "exit_code"), [("success", 0), ("failed", 1)])
def test_checkpoints_are_saved_with_the_run_when_training_ends(
    tmp_path: Path, status: str, exit_code: int
) -> None:
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    for name in ("best-100.ckpt", "last.ckpt"):
        (checkpoints / name).write_bytes(b"weights")
    logger = WandbEntryLogger(save_dir=str(tmp_path))
    logger.log("Loss", ScalarEntry(1.0), 0, {})
    logger.after_save_checkpoint(ModelCheckpoint(dirpath=checkpoints))
    logger.finalize(status)

    (folder,) = offline_runs(tmp_path)
    run = read_run(folder)
    assert {"run_folder/checkpoints/best-100.ckpt", "run_folder/checkpoints/last.ckpt"} <= set(
        run.saved
    )
    assert (run.files / "run_folder/checkpoints/last.ckpt").read_bytes() == b"weights"
    assert _exit_code(folder) == exit_code


def test_finalize_twice_finishes_the_run_once(tmp_path: Path) -> None:
    logger = WandbEntryLogger(save_dir=str(tmp_path))
    logger.log("Loss", ScalarEntry(1.0), 0, {})
    logger.finalize("success")
    logger.finalize("success")  # Lightning may call it again, e.g. on teardown after an error

    (folder,) = offline_runs(tmp_path)
    assert _exit_code(folder) == 0


def test_a_resumed_run_goes_on_in_the_same_wandb_run(tmp_path: Path) -> None:
    # The runner passes the run id it keeps in the run's record.json, both times.
    first = WandbEntryLogger(save_dir=str(tmp_path), run_id="abcd1234")
    first.log("Loss", ScalarEntry(1.0), 5, {})
    first.finalize("failed")
    resumed = WandbEntryLogger(save_dir=str(tmp_path), resume_step=5, run_id="abcd1234")
    resumed.log("Loss", ScalarEntry(0.5), 6, {})
    resumed.finalize("success")

    folders = offline_runs(tmp_path)
    assert len(folders) == 2
    assert {file.name for folder in folders for file in folder.glob("*.wandb")} == {
        "run-abcd1234.wandb"
    }
    assert [row["Loss"] for folder in folders for row in read_run(folder).rows_with("Loss")] == [
        1.0,
        0.5,
    ]


def _exit_code(folder: Path) -> int:
    read_run(folder)  # waits for the exit record
    (run_file,) = folder.glob("*.wandb")
    (code,) = [r.exit.exit_code for r in records(run_file) if r.WhichOneof("record_type") == "exit"]
    return int(code)


# --- mode: WANDB_MODE, else credentials, else offline --------------------------------


def _netrc(tmp_path: Path, machine: str) -> str:
    path = tmp_path / "netrc"
    path.write_text(f"machine {machine}\n  login user\n  password {'k' * 40}\n")
    return str(path)


@pytest.mark.parametrize(
    ("environ", "mode"),
    [
        ({}, "offline"),
        ({"WANDB_API_KEY": "k" * 40}, "online"),
        ({"WANDB_API_KEY": ""}, "offline"),
        ({"NETRC": "{netrc:api.wandb.ai}"}, "online"),
        ({"NETRC": "{netrc:example.com}"}, "offline"),
        ({"NETRC": "{netrc:wandb.example.com}", "WANDB_BASE_URL": "https://wandb.example.com"},
         "online"),
        ({"NETRC": "{tmp}/missing"}, "offline"),
        # WANDB_MODE decides, whatever the credentials.
        ({"WANDB_MODE": "offline", "WANDB_API_KEY": "k" * 40}, "offline"),
        ({"WANDB_MODE": "online"}, "online"),
        ({"WANDB_MODE": "disabled"}, "disabled"),
    ],
)  # fmt: skip
def test_mode_is_wandb_mode_else_online_with_credentials_else_offline(
    tmp_path: Path, environ: dict[str, str], mode: str
) -> None:
    def expand(value: str) -> str:
        if value.startswith("{netrc:"):
            return _netrc(tmp_path, value.removeprefix("{netrc:").removesuffix("}"))
        return value.replace("{tmp}", str(tmp_path))

    assert wandb_mode({key: expand(value) for key, value in environ.items()}) == mode


def test_credentials_are_read_from_home_netrc(tmp_path: Path) -> None:
    assert not has_credentials({})
    (tmp_path / "home" / ".netrc").write_text(
        f"machine api.wandb.ai login user password {'k' * 40}\n"
    )
    assert has_credentials({})


def test_without_credentials_it_runs_offline_and_says_how_to_sync_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("WANDB_MODE")
    caplog.set_level(logging.INFO, logger="dlconf.loggers.wandb")
    logger = WandbEntryLogger(save_dir=str(tmp_path))
    logger.log("Loss", ScalarEntry(1.0), 0, {})
    logger.log("Loss", ScalarEntry(0.5), 1, {})
    logger.finalize("success")

    (folder,) = offline_runs(tmp_path)
    (message,) = [r.getMessage() for r in caplog.records if r.name == "dlconf.loggers.wandb"]
    assert "\n" not in message
    assert message.endswith(f"wandb sync {folder}")
    assert "offline" in message
    assert "wandb:" not in capfd.readouterr().err, "W&B's own offline banner is silenced"


def test_wandb_mode_disabled_writes_no_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    logger = WandbEntryLogger(save_dir=str(tmp_path))
    logger.record_config(OmegaConf.create({"params": {"beta": 0.5}}), tmp_path)
    logger.log("Loss", ScalarEntry(1.0), 0, {})
    logger.finalize("success")

    assert offline_runs(tmp_path) == []
    assert not (tmp_path / "wandb").exists()


def test_importing_the_module_does_not_import_wandb() -> None:
    import subprocess
    import sys

    code = "import sys, dlconf, dlconf.loggers.wandb; print('wandb' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
