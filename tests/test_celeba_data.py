"""The CelebA wrapper reads torchvision's layout, checks a small copy without rejecting it,
decodes each image once, and fails with one clear line when files are missing."""

from __future__ import annotations

import pickle
import shutil
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from dlconf.errors import DatasetNotFoundError
from experiments.celeba import cache
from experiments.celeba import data as data_module
from experiments.celeba.data import TABLES, CelebA
from tests.celeba_files import write_celeba

N = 40  # 32 train, 4 valid, 4 test (see partition_of)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("celeba")
    write_celeba(root, N)
    return root


@pytest.fixture
def root(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy for each test: some tests damage it, and caches land beside the data."""
    shutil.copytree(pristine, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _landmark_table(root: Path) -> torch.Tensor:
    lines = (root / "celeba" / "list_landmarks_align_celeba.txt").read_text().splitlines()[2:]
    return torch.tensor([[float(v) for v in line.split()[1:]] for line in lines])  # (N, 10)


def test_torchvisions_md5_check_rejects_the_copy_that_ours_accepts(root: Path) -> None:
    # The private hook we replace must still be the one torchvision's constructor calls.
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        torchvision.datasets.CelebA(str(root), split="train")
    assert len(CelebA(str(root), "train", cache=False)) == 32


@pytest.mark.parametrize(
    ("split", "size", "first"), [("train", 32, 0), ("valid", 4, 8), ("test", 4, 9)]
)
def test_splits_follow_the_partition_file(root: Path, split: str, size: int, first: int) -> None:
    data = CelebA(str(root), split, target_type="landmarks")  # type: ignore[arg-type]
    assert len(data) == size
    assert data.names[0] == f"{first + 1:06d}.jpg"
    sample = data[0]
    assert set(sample) == {"x", "y"}
    assert sample["x"].shape == (3, 218, 178)
    assert sample["x"].dtype == torch.float32
    assert 0 <= sample["x"].min() <= sample["x"].max() <= 1
    assert torch.equal(sample["y"], _landmark_table(root)[first])


def test_attributes_are_zero_or_one(root: Path) -> None:
    y = CelebA(str(root), "valid", target_type="attr")[0]["y"]
    assert y.shape == (40,)
    assert y.dtype == torch.long
    assert set(y.tolist()) <= {0, 1}


def test_images_are_decoded_once_into_a_memory_mapped_cache_beside_the_data(root: Path) -> None:
    cached = CelebA(str(root), "valid", cache=True)
    assert (root / "celeba" / "cache" / "pixels_218x178.u8").stat().st_size == N * 3 * 218 * 178
    assert isinstance(cached._pixels, np.memmap)
    direct = CelebA(str(root), "valid", cache=False)
    assert torch.equal(cached[3]["x"], direct[3]["x"])
    # Another split maps the same file instead of decoding again.
    assert isinstance(CelebA(str(root), "test")._pixels, np.memmap)


def test_without_room_for_the_cache_a_split_is_decoded_into_memory(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(cache.shutil, "disk_usage", lambda _: usage(0, 0, 0))
    data = CelebA(str(root), "valid")
    assert type(data._pixels) is np.ndarray
    assert not (root / "celeba" / "cache" / "pixels_218x178.u8").exists()
    assert torch.equal(data[1]["x"], CelebA(str(root), "valid", cache=False)[1]["x"])


def test_a_smaller_image_size_scales_the_landmarks(root: Path) -> None:
    data = CelebA(str(root), "train", target_type="landmarks", image_size=(109, 89))
    assert data[0]["x"].shape == (3, 109, 89)
    assert torch.allclose(data[0]["y"], _landmark_table(root)[0] / 2)


def test_missing_data_set_names_the_folder_and_every_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as error:
        CelebA(str(tmp_path), "train")
    message = str(error.value)
    assert message.startswith(f"CelebA not found in {tmp_path / 'celeba'}: missing ")
    for name in (*TABLES, "img_align_celeba/"):
        assert name in message
    assert "data=synthetic" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (
            lambda folder: _drop_last_row(folder / "list_attr_celeba.txt"),
            "list_attr_celeba.txt counts 40 images on its first line, lists 39",
        ),
        (
            lambda folder: _drop_last_row(folder / "identity_CelebA.txt"),
            "identity_CelebA.txt lists 39 images, list_eval_partition.txt 40",
        ),
        (
            lambda folder: (folder / "img_align_celeba" / "000009.jpg").unlink(),
            "1 images missing from img_align_celeba/, e.g. 000009.jpg",
        ),
    ],
)
def test_a_damaged_copy_is_reported_before_loading(
    root: Path, damage: object, problem: str
) -> None:
    damage(root / "celeba")  # type: ignore[operator]
    with pytest.raises(DatasetNotFoundError, match="is incomplete: " + problem):
        CelebA(str(root), "valid")


def _drop_last_row(path: Path) -> None:
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))


def test_a_copy_of_celebas_full_size_must_have_the_real_md5s(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend this copy has CelebA's 202,599 rows: its tables are then checked by md5.
    monkeypatch.setattr(data_module, "FULL_SIZE", N)
    with pytest.raises(DatasetNotFoundError, match="md5 differs from CelebA's for list_eval"):
        CelebA(str(root), "valid")


def test_a_worker_gets_the_memory_map_reopened_not_copied(root: Path) -> None:
    data = CelebA(str(root), "train")
    pickled = pickle.dumps(data)
    assert len(pickled) < 100_000  # the 32 images would be 3.7 MB
    copy = pickle.loads(pickled)
    assert isinstance(copy._pixels, np.memmap)
    assert torch.equal(copy[5]["x"], data[5]["x"])
