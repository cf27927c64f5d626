"""CelebA through torchvision, as dict samples in train / valid / test splits.

torchvision reads the tables in ``root/celeba`` (splits from ``list_eval_partition.txt``,
attributes, landmarks); the images in ``root/celeba/img_align_celeba`` are decoded once into
a uint8 cache (see :mod:`experiments.celeba.cache`), so a sample is a slice of memory:

    >>> faces = CelebA("data", "valid", target_type="landmarks")
    >>> faces[0]["x"].shape, faces[0]["y"].shape
    (torch.Size([3, 218, 178]), torch.Size([10]))

``x`` is ``(3, H, W)`` floats in [0, 1]; ``y`` is the 40 attributes (long, 0 or 1) or the 10
landmark coordinates in pixels (float: ``lefteye_x, lefteye_y, ..., rightmouth_y``).
``image_size`` other than CelebA's 218 x 178 resizes the images (and scales the landmarks):
small copies for quick tries and tests.

**Checking the files.** torchvision's own check compares each table's md5 with the real
data set's, so it rejects any faithful smaller copy (a test's, a subset someone shares).
Here the check is: every file is there; every table lists the same images, in the same
order, as the partition (and the counts in the tables' first lines agree); every image of
the split is in ``img_align_celeba``. A copy with CelebA's full 202,599 rows must also have
the real files' md5s, so a damaged download is still caught.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn, cast, get_args

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets.utils import check_integrity

from dlconf.data import Sample
from dlconf.errors import DatasetNotFoundError
from experiments.celeba import cache as pixel_cache
from experiments.celeba.architectures import IMAGE_SIZE

log = logging.getLogger(__name__)

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = get_args(Split)
TargetType = Literal["attr", "landmarks"]
TARGET_TYPES: tuple[TargetType, ...] = get_args(TargetType)

IMAGES = "img_align_celeba"
PARTITION = "list_eval_partition.txt"
TABLES = (
    PARTITION,
    "list_attr_celeba.txt",
    "identity_CelebA.txt",
    "list_bbox_celeba.txt",
    "list_landmarks_align_celeba.txt",
)
"""The five tables torchvision reads from ``root/celeba``."""
COUNTED = {"list_attr_celeba.txt", "list_bbox_celeba.txt", "list_landmarks_align_celeba.txt"}
"""Tables whose first line is the number of images, then a header line."""
FULL_SIZE = 202_599
MD5 = {filename: md5 for _, md5, filename in torchvision.datasets.CelebA.file_list}


class _Tables(torchvision.datasets.CelebA):  # type: ignore[misc]  # untyped library
    """torchvision's CelebA with its md5 check replaced by :func:`check_files`.

    ``_check_integrity`` is torchvision's private hook (the one private API used here; a
    test fails if torchvision stops calling it). :func:`check_files` has run before.
    """

    def _check_integrity(self) -> bool:
        return True


class CelebA(Dataset[Sample]):
    """One split of CelebA: ``x`` ``(3, H, W)`` in [0, 1], ``y`` attributes or landmarks.

    Args:
        root: the folder holding ``celeba/`` (``device.data_root``).
        split: ``train``, ``valid`` or ``test``, as ``list_eval_partition.txt`` assigns.
        target_type: ``attr`` (40 binary attributes) or ``landmarks`` (10 coordinates).
        download: let torchvision fetch the files when missing (needs ``gdown`` and network).
        image_size: ``[height, width]`` of ``x``; CelebA's own is ``[218, 178]``.
        cache: decode the images once into uint8 (a file beside the data, else memory);
            ``False`` decodes every sample when it is read.
        num_workers: processes decoding the images while the cache is built.
    """

    def __init__(
        self,
        root: str,
        split: Split,
        target_type: TargetType = "attr",
        download: bool = False,
        image_size: Sequence[int] = IMAGE_SIZE,
        cache: bool = True,
        num_workers: int = 0,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if target_type not in TARGET_TYPES:
            raise ValueError(
                f"target_type must be one of {', '.join(TARGET_TYPES)}, got {target_type!r}"
            )
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be [height, width], got {list(image_size)}")
        self.split = split
        self.size = (int(image_size[0]), int(image_size[1]))
        self.folder = Path(root) / "celeba"
        all_names = _prepare(root, self.folder, download)
        tables = _Tables(root, split=split, target_type=target_type)
        self.names: list[str] = list(_read(tables, "filename"))
        check_images(self.folder, self.names)
        self.targets = self._targets(tables, target_type)  # (N, 40) long or (N, 10) float
        self._pixels: pixel_cache.Pixels | None = None
        self._rows = np.arange(len(self.names))
        if cache:
            self._pixels, self._rows = self._decoded(all_names, num_workers)

    def _targets(self, tables: _Tables, target_type: TargetType) -> torch.Tensor:
        if target_type == "attr":
            attributes: torch.Tensor = _read(tables, "attr")
            return attributes.to(torch.long)
        # The table is in the files' pixels (178 x 218 for CelebA): scale it to x's.
        with Image.open(self.folder / IMAGES / self.names[0]) as first:
            native_width, native_height = first.size
        height, width = self.size
        scale = torch.tensor([width / native_width, height / native_height]).repeat(5)
        landmarks: torch.Tensor = _read(tables, "landmarks_align")
        return landmarks.float() * scale  # (N, 10) pixels of x

    def _decoded(
        self, all_names: Sequence[str], num_workers: int
    ) -> tuple[pixel_cache.Pixels | None, np.ndarray[Any, np.dtype[np.int64]]]:
        images = self.folder / IMAGES
        mapped = pixel_cache.open_cache(self.folder, images, all_names, self.size, num_workers)
        if mapped is not None:
            position = {name: row for row, name in enumerate(all_names)}
            return mapped, np.array([position[name] for name in self.names])
        if pixel_cache.fits_in_memory(len(self.names), self.size):
            pixels: pixel_cache.Pixels = np.empty((len(self.names), 3, *self.size), dtype=np.uint8)
            pixel_cache.decode_into(
                pixels, [images / name for name in self.names], self.size, num_workers
            )
            return pixels, np.arange(len(self.names))
        log.warning("CelebA %s: decoding each sample when read (no cache fits)", self.split)
        return None, np.arange(len(self.names))

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> Sample:
        if self._pixels is None:
            pixels = pixel_cache.decode(self.folder / IMAGES / self.names[index], self.size)
        else:
            pixels = self._pixels[self._rows[index]]
        x = torch.as_tensor(np.array(pixels, dtype=np.float32)).div_(255.0)  # (3, H, W)
        return {"x": x, "y": self.targets[index]}

    def __getstate__(self) -> dict[str, Any]:
        # A DataLoader worker started by spawn gets a copy of the dataset: a memory map
        # would be pickled as its whole contents, so it reopens the file instead.
        state = dict(self.__dict__)
        if isinstance(self._pixels, np.memmap):
            state["_pixels"] = (self._pixels.filename, self._pixels.shape)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pixels = state["_pixels"]
        if isinstance(pixels, tuple):
            filename, shape = cast(tuple[str, tuple[int, ...]], pixels)
            state["_pixels"] = np.memmap(filename, dtype=np.uint8, mode="r", shape=shape)
        self.__dict__.update(state)


def _read(tables: _Tables, name: str) -> Any:
    """One of the tables torchvision parsed (``filename``, ``attr``, ...): untyped there."""
    return getattr(tables, name)


def _prepare(root: str, folder: Path, download: bool) -> list[str]:
    """Every image name in the partition, after checking (or downloading) the files."""
    missing = missing_files(folder)
    reason = ""
    if missing and download:
        try:  # torchvision's own download and md5 check: the real files only
            torchvision.datasets.CelebA(root, download=True)
        except Exception as error:  # gdown missing, no network, a Drive quota: all say why
            reason = f" (download failed: {str(error).strip().splitlines()[0]})"
        missing = missing_files(folder)
    if missing:
        raise DatasetNotFoundError(
            f"CelebA not found in {folder}: missing {', '.join(missing)}{reason}. Set "
            "device.data_root=<folder holding celeba/>, or use data=synthetic to try without data."
        )
    return check_files(folder)


def missing_files(folder: Path) -> list[str]:
    """The tables and the image folder torchvision needs that are not in ``folder``."""
    missing = [name for name in TABLES if not (folder / name).is_file()]
    if not (folder / IMAGES).is_dir():
        missing.append(f"{IMAGES}/")
    return missing


def check_files(folder: Path) -> list[str]:
    """Check that every table lists the partition's images in order; return their names.

    A copy with CelebA's full size must also match the real files' md5s.
    """
    names = _first_column(folder / PARTITION, skip=0)
    for table in TABLES[1:]:
        path = folder / table
        rows = _first_column(path, skip=2 if table in COUNTED else 0)
        if table in COUNTED:
            with path.open() as file:
                stated = file.readline().strip()
            if stated != str(len(rows)):
                _incomplete(
                    folder, f"{table} counts {stated} images on its first line, lists {len(rows)}"
                )
        if rows != names:
            _incomplete(
                folder,
                f"{table} lists {len(rows)} images, {PARTITION} {len(names)}"
                if len(rows) != len(names)
                else f"{table} lists other images than {PARTITION}, or in another order",
            )
    if len(names) == FULL_SIZE:
        corrupt = [t for t in TABLES if not check_integrity(str(folder / t), MD5[t])]
        if corrupt:
            _incomplete(folder, f"md5 differs from CelebA's for {', '.join(corrupt)}")
    return names


def check_images(folder: Path, names: Sequence[str]) -> None:
    """Every image named is a file in ``img_align_celeba``."""
    present = set(os.listdir(folder / IMAGES))
    absent = [name for name in names if name not in present]
    if absent:
        _incomplete(folder, f"{len(absent)} images missing from {IMAGES}/, e.g. {absent[0]}")


def _first_column(path: Path, skip: int) -> list[str]:
    with path.open() as file:
        lines = file.read().splitlines()[skip:]
    return [line.split(maxsplit=1)[0] for line in lines if line.strip()]


def _incomplete(folder: Path, problem: str) -> NoReturn:
    raise DatasetNotFoundError(
        f"CelebA in {folder} is incomplete: {problem}. Copy the data set again, or set "
        "device.data_root=<folder holding celeba/>."
    )
