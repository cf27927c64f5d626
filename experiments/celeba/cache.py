"""Decode CelebA's JPEGs once into uint8 pixels: a memory-mapped file beside the data, or memory.

Decoding a 178 x 218 JPEG costs about a millisecond and CelebA has 202,599 of them, every
epoch. As uint8 the decoded set is 23.6 GB: too much for most machines' memory, fine on
disk. So the first run decodes every image listed in ``list_eval_partition.txt`` (in
parallel, with the device's workers) into ``celeba/cache/pixels_<H>x<W>.u8``, an ``(N, 3, H,
W)`` array next to the data; every later run, and every split, maps that file. The
operating system's page cache then keeps as much of it in memory as the machine has room for.

Where the cache cannot be written (a read-only data folder, too little disk), a split that
fits in memory is decoded into memory instead; otherwise samples are decoded one at a time
(:class:`~experiments.celeba.data.CelebA` does that in the ``DataLoader``'s workers).

The file is written under a temporary name and renamed when complete, with a small JSON
header beside it naming the images and the size, so a killed build or a changed data set is
never read as a valid cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

log = logging.getLogger(__name__)

Pixels = np.ndarray[Any, np.dtype[np.uint8]]
"""Decoded images, ``(N, 3, H, W)`` uint8."""
MEMORY_SHARE = 0.25  # of the memory available now: a split decoded in memory may take this much


def decode(path: str | Path, size: tuple[int, int]) -> Pixels:
    """One image as ``(3, H, W)`` uint8, resized (bilinear) when it is not ``size`` already."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        height, width = size
        if rgb.size != (width, height):
            rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(rgb).transpose(2, 0, 1).copy()  # (3, H, W)


class _Files(Dataset[torch.Tensor]):
    def __init__(self, paths: Sequence[Path], size: tuple[int, int]) -> None:
        self.paths = paths
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.as_tensor(decode(self.paths[index], self.size))


def decode_into(
    pixels: Pixels, paths: Sequence[Path], size: tuple[int, int], num_workers: int
) -> None:
    """Decode ``paths`` into ``pixels[i]``, in order, with ``num_workers`` processes."""
    loader = DataLoader(_Files(paths, size), batch_size=256, num_workers=num_workers)
    start = 0
    for batch in loader:  # (b, 3, H, W) uint8
        pixels[start : start + len(batch)] = batch.numpy()
        start += len(batch)


def _digest(names: Sequence[str], size: tuple[int, int]) -> str:
    hasher = hashlib.sha1(f"{size[0]}x{size[1]}".encode())
    for name in names:
        hasher.update(name.encode() + b"\n")
    return hasher.hexdigest()


def cache_path(folder: Path, size: tuple[int, int]) -> Path:
    return folder / "cache" / f"pixels_{size[0]}x{size[1]}.u8"


def open_cache(
    folder: Path, images: Path, names: Sequence[str], size: tuple[int, int], num_workers: int
) -> Pixels | None:
    """The memory-mapped ``(len(names), 3, H, W)`` cache of every image, built if needed.

    ``None`` when it cannot be built here (read-only folder, too little free disk).
    """
    path = cache_path(folder, size)
    header = path.with_suffix(".json")
    shape = (len(names), 3, *size)
    expected = {"shape": list(shape), "digest": _digest(names, size)}
    if path.is_file() and header.is_file() and json.loads(header.read_text()) == expected:
        return np.memmap(path, dtype=np.uint8, mode="r", shape=shape)
    needed = int(np.prod(shape))
    try:
        path.parent.mkdir(exist_ok=True)
        free = shutil.disk_usage(path.parent).free
    except OSError as error:
        log.warning("CelebA: no pixel cache in %s (%s)", path.parent, error)
        return None
    if free < needed * 1.05:
        log.warning(
            "CelebA: no pixel cache in %s: it needs %.1f GB, %.1f GB free",
            path.parent,
            needed / 1e9,
            free / 1e9,
        )
        return None
    log.info("CelebA: decoding %d images once into %s (%.1f GB)", len(names), path, needed / 1e9)
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
    try:
        writing = np.memmap(partial, dtype=np.uint8, mode="w+", shape=shape)
        decode_into(writing, [images / name for name in names], size, num_workers)
        writing.flush()
        del writing  # closes the map before the rename
        os.replace(partial, path)
        header.write_text(json.dumps(expected))
    except OSError as error:
        partial.unlink(missing_ok=True)
        log.warning("CelebA: could not write the pixel cache %s (%s)", path, error)
        return None
    return np.memmap(path, dtype=np.uint8, mode="r", shape=shape)


def fits_in_memory(count: int, size: tuple[int, int]) -> bool:
    """Whether ``count`` decoded images take at most a quarter of the memory available now."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return False
    return count * 3 * size[0] * size[1] <= MEMORY_SHARE * available
