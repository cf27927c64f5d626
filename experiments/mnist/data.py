"""MNIST through torchvision, as dict samples in train / valid / test splits.

torchvision reads the IDX files in ``root/MNIST/raw`` (or downloads them there); this
wrapper then converts one split to a float tensor held in memory, so a sample is an index
into a tensor, not a PIL image:

    >>> mnist = MNIST("data", "valid")
    >>> mnist[0]["x"].shape, mnist[0]["y"].dtype
    (torch.Size([1, 28, 28]), torch.int64)

Splits: ``test`` is the test file; ``valid`` is the last sixth of the training file and
``train`` the rest. For MNIST's 60,000 training images that is the usual 50,000 / 10,000;
smaller files (as tests write) keep the same proportions.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal, get_args
from urllib.error import URLError

import torch
import torchvision
from torch import Tensor
from torch.utils.data import Dataset

from dlconf.data import Sample
from dlconf.errors import DatasetNotFoundError
from experiments.mnist.idx import check_pair

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = get_args(Split)
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
"""The uncompressed files torchvision expects in ``root/MNIST/raw``."""


def valid_size(n_train_file: int) -> int:
    """How many images at the end of the training file form ``valid``: one in six."""
    return n_train_file // 6


class MNIST(Dataset[Sample]):
    """One split of MNIST: ``x`` ``(1, 28, 28)`` floats in ``[0, 1]``, ``y`` a long scalar.

    ``images`` ``(N, 1, 28, 28)`` and ``labels`` ``(N,)`` are public so a loader can batch
    by index without going through ``__getitem__``.
    """

    def __init__(self, root: str, split: Split, download: bool = False) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        self.split = split
        data, targets = _load(root, train=split != "test", download=download)
        if split != "test":
            boundary = len(data) - valid_size(len(data))
            part = slice(None, boundary) if split == "train" else slice(boundary, None)
            data, targets = data[part], targets[part]
        # Converting once here, not per sample, keeps __getitem__ an index into memory.
        self.images = data[:, None].to(torch.float32).div_(255.0)  # (N, 1, 28, 28)
        self.labels = targets.to(torch.long)  # (N,)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Sample:
        return {"x": self.images[index], "y": self.labels[index]}

    def tensors(self) -> dict[str, Tensor]:
        """The whole split, ``{"x": images, "y": labels}``: training batches it by index."""
        return {"x": self.images, "y": self.labels}


def _load(root: str, train: bool, download: bool) -> tuple[Tensor, Tensor]:
    """torchvision's uint8 images ``(N, 28, 28)`` and labels ``(N,)`` for one file pair.

    ``train`` and ``valid`` both come from the training file: it is read once, and read
    again only when it changes (the same path, size and modification time)."""
    raw_folder = os.path.join(root, "MNIST", "raw")
    prefix = Path(raw_folder).expanduser() / ("train" if train else "t10k")  # as torchvision
    images, labels = Path(f"{prefix}-images-idx3-ubyte"), Path(f"{prefix}-labels-idx1-ubyte")
    if images.exists() and labels.exists():
        # torchvision would fail on damaged files with a bare assert or a reshape error.
        check_pair(images, labels)
        return _read_unchanged(root, train, _version(images), _version(labels))
    return _read_or_download(root, train, download)


def _version(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=2)  # the training file and the test file
def _read_unchanged(
    root: str, train: bool, *versions: tuple[str, int, int]
) -> tuple[Tensor, Tensor]:
    """:func:`_read_or_download` of files that are there; ``versions`` key the cache.

    Shared between splits: they slice these tensors and convert them to new ones, never
    change them in place."""
    del versions
    return _read_or_download(root, train, download=False)


def _read_or_download(root: str, train: bool, download: bool) -> tuple[Tensor, Tensor]:
    raw_folder = os.path.join(root, "MNIST", "raw")
    try:
        dataset = torchvision.datasets.MNIST(root, train=train, download=download)
    except (RuntimeError, OSError) as error:  # OSError covers URLError
        missing = [name for name in FILES if not os.path.isfile(os.path.join(raw_folder, name))]
        if not missing:
            raise  # the files are there, so this is another problem: let it surface whole
        reason = _download_failure(error) if download else ""
        raise DatasetNotFoundError(_not_found_message(raw_folder, missing, reason)) from None
    return dataset.data, dataset.targets


def _download_failure(error: BaseException) -> str:
    """The start of a download error, which names the file and the mirror tried."""
    if isinstance(error, URLError):
        return f"download failed: {error.reason}"
    lines = str(error).strip().splitlines()
    return f"download failed: {' '.join(lines[:3])}" if lines else "download failed"


def _not_found_message(raw_folder: str, missing: list[str], reason: str) -> str:
    # The downloads are .gz files; torchvision reads only what they unpack to.
    packed = [
        f"{name}.gz" for name in missing if os.path.isfile(os.path.join(raw_folder, name + ".gz"))
    ]
    if packed and not reason:
        reason = f"found {', '.join(packed)}: gunzip them there"
    return (
        f"MNIST not found in {raw_folder}: missing {', '.join(missing)}"
        + (f" ({reason})" if reason else "")
        + ". Set device.data_root=<folder holding MNIST/raw>, or device.download_files=true"
        " on a machine with network, or use data=synthetic to try without data."
    )
