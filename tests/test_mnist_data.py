"""The MNIST wrapper reads torchvision's real IDX files and fails clearly without them."""

from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

import pytest
import torch
import torchvision

from dlconf.errors import DatasetDamagedError, DatasetNotFoundError
from experiments.mnist.data import FILES, MNIST, Split, valid_size
from tests.mnist_files import write_mnist_idx

N_TRAIN, N_TEST = 600, 100


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A folder with a 600 + 100 image MNIST whose pixels and labels we know."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(
        0, 256, (N_TRAIN + N_TEST, 28, 28), dtype=torch.uint8, generator=generator
    )
    labels = torch.arange(N_TRAIN + N_TEST) % 10
    write_mnist_idx(tmp_path, N_TRAIN, N_TEST, images=images, labels=labels)
    return tmp_path


def test_files_are_what_torchvision_reads(root: Path) -> None:
    raw = torchvision.datasets.MNIST(str(root), train=True, download=False)
    assert raw.data.shape == (N_TRAIN, 28, 28)
    assert raw.data.dtype == torch.uint8
    assert raw.targets[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


@pytest.mark.parametrize(
    ("split", "first", "size"),
    [("train", 0, 500), ("valid", 500, 100), ("test", N_TRAIN, 100)],
)
def test_split_holds_its_slice_of_the_files(
    root: Path, split: Split, first: int, size: int
) -> None:
    data = MNIST(str(root), split)
    assert len(data) == size
    assert data.images.shape == (size, 1, 28, 28)
    assert data.images.dtype == torch.float32
    assert data.labels.shape == (size,)
    assert data.labels.dtype == torch.long
    assert data.labels.tolist() == [(first + i) % 10 for i in range(size)]


def test_train_and_valid_read_the_training_file_once_until_it_changes(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[bool] = []
    real = torchvision.datasets.MNIST

    def counting(root: str, train: bool, download: bool) -> torchvision.datasets.MNIST:
        reads.append(train)
        return real(root, train=train, download=download)

    monkeypatch.setattr(torchvision.datasets, "MNIST", counting)
    train, valid = MNIST(str(root), "train"), MNIST(str(root), "valid")
    assert reads == [True]
    assert len(train) + len(valid) == N_TRAIN

    # New files under the same name (another download, a test's own): read again.
    images = torch.zeros((N_TRAIN + N_TEST, 28, 28), dtype=torch.uint8)
    write_mnist_idx(
        root, N_TRAIN - 60, N_TEST, images=images[60:], labels=torch.zeros(640, dtype=torch.long)
    )
    again = MNIST(str(root), "valid")
    assert reads == [True, True]
    assert len(again) == valid_size(N_TRAIN - 60)
    assert again.images.max().item() == 0.0


def test_samples_are_dicts_of_scaled_pixels(root: Path) -> None:
    data = MNIST(str(root), "valid")
    sample = data[3]
    assert set(sample) == {"x", "y"}
    assert sample["x"].shape == (1, 28, 28)
    assert sample["y"].shape == ()
    assert sample["y"].item() == (500 + 3) % 10
    raw = torchvision.datasets.MNIST(str(root), train=True).data[503]  # (28, 28) uint8
    assert torch.equal(sample["x"][0], raw.float() / 255)
    assert data.images.min().item() == 0.0
    assert data.images.max().item() == 1.0


def test_train_and_valid_are_disjoint_and_cover_the_training_file(root: Path) -> None:
    train, valid = MNIST(str(root), "train"), MNIST(str(root), "valid")
    everything = torchvision.datasets.MNIST(str(root), train=True).data.float() / 255
    assert torch.equal(torch.cat([train.images, valid.images])[:, 0], everything)
    # The random images are all distinct, so no valid image is also a train image.
    flat_train, flat_valid = train.images.flatten(1), valid.images.flatten(1)
    assert torch.cdist(flat_valid, flat_train).min().item() > 0


@pytest.mark.parametrize(
    ("n_train_file", "n_valid"),
    [(60_000, 10_000), (600, 100), (6_000, 1_000), (601, 100), (5, 0)],
)
def test_valid_is_the_last_sixth_of_the_training_file(n_train_file: int, n_valid: int) -> None:
    assert valid_size(n_train_file) == n_valid


def test_missing_files_name_the_folder_and_the_ways_out(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as caught:
        MNIST(str(tmp_path), "train")
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert all(name in message for name in FILES)
    assert "device.data_root=" in message
    assert "device.download_files=true" in message
    assert "data=synthetic" in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_one_missing_file_is_named_alone(root: Path) -> None:
    (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"missing t10k-labels-idx1-ubyte\. "):
        MNIST(str(root), "test")


def test_download_without_network_gives_the_same_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(url: str, *args: object, **kwargs: object) -> None:
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", no_network)
    with pytest.raises(DatasetNotFoundError) as caught:
        MNIST(str(tmp_path), "train", download=True)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "download failed" in message
    assert "Temporary failure in name resolution" in message
    assert "data=synthetic" in message


def test_download_is_skipped_when_the_files_are_there(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("downloaded although the files exist")

    monkeypatch.setattr(
        torchvision.datasets.mnist, "download_and_extract_archive", must_not_download
    )
    assert len(MNIST(str(root), "test", download=True)) == N_TEST


def test_a_truncated_file_is_not_reported_as_missing(root: Path) -> None:
    images_file = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images_file.write_bytes(images_file.read_bytes()[: 16 + 10 * 28 * 28])  # 10 of 600 images
    with pytest.raises(DatasetDamagedError, match="train-images-idx3-ubyte is cut short"):
        MNIST(str(root), "train")


def test_an_unknown_split_is_refused_by_name(root: Path) -> None:
    with pytest.raises(ValueError, match="split must be one of train, valid, test, got 'val'"):
        MNIST(str(root), "val")  # type: ignore[arg-type]
