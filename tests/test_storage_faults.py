"""A full or read-only disk: one line naming the folder and the fix, exit 74, nothing left.

Both run the real command line on a small tmpfs that the test mounts (root or
CAP_SYS_ADMIN needed; skipped with the reason elsewhere).
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dlconf.callbacks.checkpoints import read_checkpoint
from dlconf.runner.run_folder import RunFolder
from tests.conftest import ROOT

SMALL = [
    "logger=none",
    "trainer.enable_progress_bar=false",
    "device.download_files=false",
    "params.encoder_layers=[64]",
    "params.decoder_layers=[64]",
    "params.batch_size=64",
    "eval_params.elbo.every=1 day",
    "eval_params.samples.every=1 day",
    "eval_params.reconstruction.every=1 day",
    "checkpoint.every=5 global_steps",
]


@contextlib.contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _command(mnist_root: Path, runs: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "experiments.mnist_vae",
        f"device.data_root={mnist_root}",
        f"device.experiments_root={runs}",
        *SMALL,
        *extra,
    ]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}


def test_a_read_only_experiments_root_is_one_line_and_exit_74(
    mnist_root: Path, tmp_path: Path
) -> None:
    with _tmpfs(tmp_path / "ro", "ro,size=1m") as mount:
        result = subprocess.run(
            _command(mnist_root, mount / "runs", "train_for=5 global_steps"),
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 74, result.stderr[-3000:]
        assert result.stderr.splitlines() == [
            f"error: cannot write {mount / 'runs' / 'VAE_experiments' / 'My_First_VAE'} "
            "(Read-only file system): give a writable folder with "
            "device.experiments_root=<folder>"
        ]


def test_a_disk_that_fills_during_training_stops_the_run_and_keeps_the_last_checkpoint(
    mnist_root: Path, tmp_path: Path
) -> None:
    with _tmpfs(tmp_path / "small", "size=24m") as mount:
        runs = mount / "runs"
        process = subprocess.Popen(
            _command(mnist_root, runs, "train_for=2000 global_steps"),
            cwd=ROOT,
            env=_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while not any(f.last_checkpoint.is_file() for f in RunFolder.all_under(runs)):
            assert process.poll() is None, process.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no checkpoint in time"
            time.sleep(0.2)
        _fill(mount / "filler")  # the disk is full from here on
        _, stderr = process.communicate(timeout=300)

        assert process.returncode == 74, stderr[-3000:]
        assert "Traceback" not in stderr
        (line,) = [line for line in stderr.splitlines() if line.startswith("error: ")]
        (folder,) = RunFolder.all_under(runs)
        assert line.startswith(f"error: cannot save the checkpoint {folder.checkpoint_dir}/")
        assert ": no space left on its file system; the run stopped, and the previous " in line
        assert line.endswith("and continue with resume=<run folder>")
        assert not [p for p in mount.rglob("*") if p.name.endswith(".tmp")]
        step = int(read_checkpoint(folder.last_checkpoint, weights_only=False)["global_step"])
        assert 5 <= step < 2000


def _fill(path: Path) -> None:
    block = b"\0" * (1 << 20)
    with path.open("wb") as filler:
        try:
            while True:
                filler.write(block)
                filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    with contextlib.suppress(OSError), path.open("ab") as filler:
        while True:  # the last bytes a 1 MiB block did not fit in
            filler.write(b"\0" * 4096)
            filler.flush()
