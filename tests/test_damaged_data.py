"""Damaged MNIST files stop the run before training, with one line naming the file and the fix.

The files are the real IDX files ``tests/mnist_files.py`` writes, then damaged the way a
disk, an interrupted copy or a forgotten ``gunzip`` damages them. The table reads them
in-process; the subprocess tests pin what a user sees: exit code 2, one line on stderr, no
traceback and no run folder.
"""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dlconf.errors import DatasetDamagedError, DatasetNotFoundError
from experiments.mnist.data import MNIST
from tests.mnist_files import IMAGES_MAGIC, LABELS_MAGIC, write_idx, write_mnist_idx

ROOT = Path(__file__).parents[1]
N_TRAIN, N_TEST = 60, 12
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
FIX = "device.download_files=true"

Damage = Callable[[Path], None]


def truncate(name: str, keep: int) -> Damage:
    def damage(raw: Path) -> None:
        path = raw / name
        path.write_bytes(path.read_bytes()[:keep])

    return damage


def flip_magic(name: str) -> Damage:
    def damage(raw: Path) -> None:
        path = raw / name
        data = bytearray(path.read_bytes())
        data[0:4] = struct.pack(">i", 0x01020304)
        path.write_bytes(bytes(data))

    return damage


def gzipped(name: str) -> Damage:
    """The ``.gz`` a download delivers, saved under the uncompressed name."""

    def damage(raw: Path) -> None:
        path = raw / name
        path.write_bytes(gzip.compress(path.read_bytes()))

    return damage


def gzip_garbage(name: str) -> Damage:
    """Bytes that start like gzip and then are not: a download cut off at the start."""

    def damage(raw: Path) -> None:
        (raw / name).write_bytes(b"\x1f\x8b\x08\x00garbage")

    return damage


def labels_of_length(n: int) -> Damage:
    def damage(raw: Path) -> None:
        import torch

        write_idx(raw / TRAIN_LABELS, LABELS_MAGIC, torch.zeros(n, dtype=torch.uint8))

    return damage


def images_of_side(side: int) -> Damage:
    def damage(raw: Path) -> None:
        import torch

        images = torch.zeros(N_TRAIN, side, side, dtype=torch.uint8)
        write_idx(raw / TRAIN_IMAGES, IMAGES_MAGIC, images)

    return damage


def swap_magic(raw: Path) -> None:
    """Labels where the images should be: the two names swapped by hand."""
    images, labels = raw / TRAIN_IMAGES, raw / TRAIN_LABELS
    data = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(data)


def bad_label(raw: Path) -> None:
    path = raw / TRAIN_LABELS
    data = bytearray(path.read_bytes())
    data[8 + 7] = 200
    path.write_bytes(bytes(data))


def extra_bytes(raw: Path) -> None:
    path = raw / TRAIN_IMAGES
    path.write_bytes(path.read_bytes() + b"\0" * 5)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return write_mnist_idx(tmp_path, n_train=N_TRAIN, n_test=N_TEST)


CASES: list[tuple[str, Damage, str, str]] = [
    ("cut in the images", truncate(TRAIN_IMAGES, 16 + 10 * 28 * 28), TRAIN_IMAGES, "is cut short"),
    ("cut in the header", truncate(TRAIN_IMAGES, 6), TRAIN_IMAGES, "is cut short: 6 bytes"),
    ("empty labels", truncate(TRAIN_LABELS, 0), TRAIN_LABELS, "is cut short: 0 bytes"),
    ("cut in the labels", truncate(TRAIN_LABELS, 8 + 30), TRAIN_LABELS, "announces 60 labels"),
    ("wrong magic", flip_magic(TRAIN_IMAGES), TRAIN_IMAGES, "not an MNIST IDX file"),
    ("names swapped", swap_magic, TRAIN_IMAGES, "magic number 2049: an IDX labels file"),
    ("still gzipped", gzipped(TRAIN_LABELS), TRAIN_LABELS, "gzip-compressed: gunzip it"),
    ("gzip garbage", gzip_garbage(TRAIN_IMAGES), TRAIN_IMAGES, "gzip-compressed"),
    ("counts differ", labels_of_length(50), TRAIN_IMAGES, "60 images but"),
    ("wrong image size", images_of_side(32), TRAIN_IMAGES, "holds 32x32 images"),
    ("label out of range", bad_label, TRAIN_LABELS, "holds label 200 at index 7"),
    ("trailing bytes", extra_bytes, TRAIN_IMAGES, "has 5 bytes after the 60 images"),
]


@pytest.mark.quick
@pytest.mark.parametrize(
    ("damage", "culprit", "problem"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_damaged_file_is_named_with_its_problem_and_the_fix(
    raw: Path, damage: Damage, culprit: str, problem: str
) -> None:
    damage(raw)
    with pytest.raises(DatasetDamagedError) as caught:
        MNIST(str(raw.parents[1]), "train")
    message = str(caught.value)
    assert message.startswith(f"MNIST file {raw / culprit} ")
    assert problem in message
    assert FIX in message
    assert "\n" not in message
    assert caught.value.exit_code == 2


@pytest.mark.quick
def test_the_test_files_are_not_checked_for_a_training_split(raw: Path) -> None:
    truncate("t10k-images-idx3-ubyte", 100)(raw)
    assert len(MNIST(str(raw.parents[1]), "train")) == N_TRAIN - N_TRAIN // 6
    with pytest.raises(DatasetDamagedError, match="t10k-images-idx3-ubyte is cut short"):
        MNIST(str(raw.parents[1]), "test")


@pytest.mark.quick
def test_files_left_compressed_are_named_with_gunzip(raw: Path) -> None:
    for name in (TRAIN_IMAGES, TRAIN_LABELS):
        path = raw / name
        path.with_name(name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    with pytest.raises(DatasetNotFoundError) as caught:
        MNIST(str(raw.parents[1]), "train")
    assert f"found {TRAIN_IMAGES}.gz, {TRAIN_LABELS}.gz: gunzip them there" in str(caught.value)


@pytest.mark.parametrize(
    "damage",
    [truncate(TRAIN_IMAGES, 1000), flip_magic(TRAIN_LABELS), gzip_garbage(TRAIN_IMAGES)],
    ids=["truncated", "wrong magic", "gzip garbage"],
)
def test_run_on_damaged_data_exits_2_with_one_line_and_no_run_folder(
    raw: Path, tmp_path: Path, damage: Damage
) -> None:
    damage(raw)
    runs = tmp_path / "runs"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            f"device.data_root={raw.parents[1]}",
            f"device.experiments_root={runs}",
            "device.download_files=false",
            "logger=none",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "DEVICE_NAME"},
        check=False,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: MNIST file {raw}/")
    assert FIX in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not runs.exists() or list(runs.iterdir()) == []
