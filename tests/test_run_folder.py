"""The run folder and how a run opens it, case by case, without training.

Folders, records and checkpoints are written here by hand in the layout the runner writes
(through :class:`RunFolder`), so each case is a few milliseconds.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

import pytest
import torch

from dlconf import ConfigError
from dlconf.callbacks.checkpoints import AtomicCheckpointIO, DamagedCheckpointError, read_checkpoint
from dlconf.errors import StorageError
from dlconf.runner import slurm
from dlconf.runner.ddp import lightning_rank
from dlconf.runner.resume import device_overrides
from dlconf.runner.run_folder import RunFolder, check_name


def _checkpoint(path: Path, step: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.ones(2)}, "global_step": step}, path)


def _run(root: Path, entries: list[dict[str, Any]], config: str = "seed: 1\n") -> RunFolder:
    folder = RunFolder.create(root, "p", "n")
    folder.config_file.write_text(config)
    for entry in entries:
        folder.append_record(entry)
    return folder


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["My_First_VAE", "beta=0.1,lr=1e-3", "a.b-c+d@e", "x" * 100])
def test_a_name_that_is_one_folder_name_passes(name: str) -> None:
    assert check_name("run.name", name) == name


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("../../escape", "escape"),
        ("/etc", "etc"),
        ("a b/c", "a_b_c"),
        ("..", "run"),
        (".hidden", "hidden"),
        ("-flag", "flag"),
        ("", "run"),
        ("x" * 101, "x" * 100),
        ("${oc.env:HOME}", "oc.env_HOME"),
        ("naïve", "na_ve"),
    ],
)
def test_a_name_that_could_leave_the_root_is_refused_with_a_fix(name: str, suggestion: str) -> None:
    with pytest.raises(ConfigError) as error:
        check_name("run.name", name)
    (line,) = str(error.value).splitlines()
    assert line.startswith(f"run.name={name!r} names the run folder: give one name of at most 100")
    assert line.endswith(f"e.g. run.name={suggestion}")


def test_a_folder_reached_through_a_link_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "root" / "p").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match=r"run folders go inside device\.experiments_root="):
        RunFolder.create(tmp_path / "root", "p", "n")
    assert list((tmp_path / "elsewhere").iterdir()) == []  # nothing made outside the root


# --- making and removing -------------------------------------------------------------------


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    first, second = RunFolder.create(tmp_path, "p", "n"), RunFolder.create(tmp_path, "p", "n")
    assert first.path != second.path
    assert second.path.name.startswith(first.path.name)
    assert first.new and second.new


def test_removing_a_new_folder_removes_the_folders_it_made_and_no_others(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    folder = RunFolder.create(root, "p", "n")
    folder.remove()
    assert not root.exists()

    kept = RunFolder.create(root, "p", "n")
    other = RunFolder.create(root, "p", "m")
    other.remove()
    assert kept.path.is_dir()
    assert sorted(p.name for p in (root / "p").iterdir()) == ["n"]


def test_a_read_only_place_is_one_line_naming_it_and_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError) as error:
        RunFolder.create(blocker / "runs", "p", "n")
    assert str(error.value).startswith(f"cannot write {blocker / 'runs' / 'p' / 'n'}")
    assert "device.experiments_root=<folder>" in str(error.value)


def test_the_folder_is_absolute_so_no_other_process_resolves_it_elsewhere() -> None:
    assert RunFolder(Path("runs/x")).path == Path.cwd() / "runs" / "x"


# --- checkpoints ---------------------------------------------------------------------------


def test_a_damaged_last_checkpoint_falls_back_to_the_newest_readable_one_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _run(tmp_path, [])
    _checkpoint(folder.checkpoint_dir / "best-20.ckpt", 20)
    _checkpoint(folder.path / "hpc_ckpt_1.ckpt", 10)
    folder.last_checkpoint.write_bytes(b"PK\x03\x04 cut short")
    with caplog.at_level(logging.WARNING):
        newest = folder.newest_checkpoint()
    assert newest is not None
    assert (newest.path.name, newest.step) == ("best-20.ckpt", 20)
    (message,) = caplog.messages
    assert message.startswith(f"cannot read the checkpoint {folder.last_checkpoint}: ")
    assert message.endswith("using best-20.ckpt (step 20), the newest readable checkpoint")


def test_last_wins_over_a_best_checkpoint_of_the_same_step(tmp_path: Path) -> None:
    folder = _run(tmp_path, [])
    _checkpoint(folder.checkpoint_dir / "best-20.ckpt", 20)
    _checkpoint(folder.last_checkpoint, 20)
    newest = folder.newest_checkpoint()
    assert newest is not None and newest.path == folder.last_checkpoint


def test_reading_a_file_that_is_no_checkpoint_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "x.ckpt"
    torch.save({"weights": 1}, path)
    with pytest.raises(DamagedCheckpointError, match=r"x\.ckpt is not a Lightning checkpoint"):
        read_checkpoint(path)


def test_a_failed_save_removes_its_temporary_file_and_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"state_dict": {}, "global_step": 5}, target)

    def disk_full(checkpoint: object, path: Any, **kwargs: object) -> None:
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("lightning.fabric.plugins.io.torch_io._atomic_save", disk_full)
    with pytest.raises(StorageError) as error:
        io.save_checkpoint({"state_dict": {}, "global_step": 10}, target)
    assert str(error.value).startswith(
        f"cannot save the checkpoint {target}: no space left on its file system; the run "
        "stopped, and the previous checkpoint is kept."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]
    assert read_checkpoint(target)["global_step"] == 5


# --- DDP ranks and SLURM jobs --------------------------------------------------------------


def test_a_rank_that_lightning_started_is_told_apart_from_the_users_overrides() -> None:
    argv = [
        "params.beta=0.1",
        'hydra.run.dir="/runs/p/n/2026-01-01_00-00-00"',
        "hydra.job.name=train_ddp_process_1",
        "hydra.output_subdir=null",
    ]
    rank = lightning_rank(argv, {"LOCAL_RANK": "1"})
    assert rank is not None
    assert rank.args == ["params.beta=0.1"]
    assert rank.run_dir == Path("/runs/p/n/2026-01-01_00-00-00")
    assert lightning_rank(argv, {"LOCAL_RANK": "0"}) is None  # rank 0 typed them itself
    assert lightning_rank(argv[:1], {"LOCAL_RANK": "1"}) is None


@pytest.mark.parametrize(
    ("environ", "continues"),
    [
        ({"SLURM_JOB_ID": "7"}, False),  # a later run of the same job: its own folder
        ({"SLURM_JOB_ID": "7", "SLURM_RESTART_COUNT": "1"}, True),  # the job restarted
        ({"SLURM_JOB_ID": "8", "SLURM_RESTART_COUNT": "1"}, False),  # another job
    ],
)
def test_only_the_same_job_restarted_continues_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], continues: bool
) -> None:
    folder = _run(tmp_path, [{"slurm_job_id": "7", "slurm_restart_count": 0, "args": ["a=1"]}])
    for name in ("SLURM_JOB_ID", "SLURM_RESTART_COUNT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    found = slurm.requeued_run(tmp_path, "p", "n", ["a=1"], "seed: 1\n")
    assert (found is not None and found.path == folder.path) is continues
    # The same job restarted, but another command or config: not this run.
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert slurm.requeued_run(tmp_path, "p", "n", ["a=2"], "seed: 1\n") is None
    assert slurm.requeued_run(tmp_path, "p", "n", ["a=1"], "seed: 2\n") is None


def test_a_folder_continued_since_the_restart_is_not_continued_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = {"slurm_job_id": "7", "args": ["a=1"]}
    _run(tmp_path, [{**entry, "slurm_restart_count": 0}, {**entry, "slurm_restart_count": 1}])
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert slurm.requeued_run(tmp_path, "p", "n", ["a=1"], "seed: 1\n") is None


def test_srun_tasks_above_zero_find_task_zeros_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"SLURM_JOB_ID": "9", "SLURM_STEP_ID": "0", "SLURM_NTASKS": "4", "SLURM_PROCID": "2"}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    other = {"slurm_job_id": "9", "slurm_step_id": "0", "slurm_restart_count": 0, "args": ["b=1"]}
    _run(tmp_path, [other])
    mine = _run(tmp_path, [{**other, "args": ["a=1"]}])
    assert slurm.task_rank() == 2
    found = slurm.rank_zero_folder(tmp_path, "p", "n", ["a=1"], 2)
    assert found.path == mine.path and not found.new


# --- resume on this machine or another -----------------------------------------------------


def test_resume_on_the_same_machine_keeps_the_runs_device_overrides_new_ones_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEVICE_NAME", raising=False)
    recorded = ["device.data_root=/my/data", "device.num_workers=2", "params.beta=0.1"]
    folder = _run(tmp_path, [{"device_name": None, "args": recorded}])
    assert device_overrides(folder, ["device.num_workers=0"]) == [
        "device.data_root=/my/data",
        "device.num_workers=2",
        "device.num_workers=0",  # later wins
    ]
    assert device_overrides(folder, ["device=laptop"]) == ["device=laptop"]


def test_resume_on_another_machine_takes_its_device_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DEVICE_NAME", "cluster")
    folder = _run(tmp_path, [{"device_name": "laptop", "args": ["device.data_root=/my/data"]}])
    with caplog.at_level(logging.WARNING):
        assert device_overrides(folder, []) == []
    (message,) = caplog.messages
    assert message == (
        f"resume: {folder.path} ran on DEVICE_NAME=laptop; it continues on this machine's "
        "device (DEVICE_NAME=cluster), without the run's own device overrides"
    )
