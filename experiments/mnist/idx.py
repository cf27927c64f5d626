"""Checks MNIST's IDX files before torchvision reads them, so damage is one clear line.

torchvision trusts the files it finds: one cut short fails deep in ``Tensor.view`` ("shape
... is invalid for input of size"), a wrong magic number on a bare ``assert``, and images
and labels of different lengths only at the first batch that reaches past the shorter one.
:func:`check_pair` reads the two headers, compares them with the file sizes and reads the
labels (one byte each), so it costs little next to reading the images themselves.

IDX (http://yann.lecun.com/exdb/mnist/): a big-endian header, the magic number 2051 for
images (``0x0803``: unsigned bytes, 3 dimensions) or 2049 for labels (``0x0801``: unsigned
bytes, 1 dimension), one big-endian int32 per dimension, then the bytes, row-major.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

from dlconf.errors import DatasetDamagedError

GZIP_MAGIC = b"\x1f\x8b"
SIDE = 28
N_CLASSES = 10


@dataclass(frozen=True)
class IdxKind:
    """What one kind of MNIST file holds: its magic number and the shape of one item."""

    name: str
    magic: int
    item_shape: tuple[int, ...]

    @property
    def header_size(self) -> int:
        return 4 * (2 + len(self.item_shape))  # magic, item count, one int per item axis


IMAGES = IdxKind("images", 2051, (SIDE, SIDE))
LABELS = IdxKind("labels", 2049, ())


def check_pair(images: Path, labels: Path) -> None:
    """Raise :class:`DatasetDamagedError` unless ``images`` and ``labels`` are sound MNIST."""
    n_images = _check_file(images, IMAGES)
    n_labels = _check_file(labels, LABELS)
    if n_images != n_labels:
        raise _damaged(
            images,
            f"holds {n_images} images but {labels.name} holds {n_labels} labels: "
            "the two come from different downloads",
        )
    _check_labels(labels)


def _check_file(path: Path, kind: IdxKind) -> int:
    """The number of items ``path`` holds, after checking its header against its size."""
    try:
        with path.open("rb") as file:
            header = file.read(kind.header_size)
        size = path.stat().st_size
    except OSError as error:
        raise _damaged(path, f"cannot be read ({error.strerror or error})") from None
    if header.startswith(GZIP_MAGIC):
        raise _damaged(path, "is still gzip-compressed: gunzip it (or replace it)")
    if len(header) < kind.header_size:
        raise _damaged(path, f"is cut short: {size} bytes, less than an IDX {kind.name} header")
    magic, n_items, *item_shape = struct.unpack(f">{len(header) // 4}i", header)
    if magic != kind.magic:
        other = {IMAGES.magic: IMAGES.name, LABELS.magic: LABELS.name}.get(magic)
        what = f"an IDX {other} file" if other else "not an MNIST IDX file"
        raise _damaged(
            path,
            f"has magic number {magic}: {what} (IDX {kind.name} files start with {kind.magic})",
        )
    if tuple(item_shape) != kind.item_shape:
        shape = "x".join(map(str, item_shape))
        raise _damaged(path, f"holds {shape} images; MNIST's are {SIDE}x{SIDE}")
    expected = kind.header_size + n_items * math.prod(kind.item_shape)
    if n_items < 0 or size < expected:
        raise _damaged(
            path,
            f"is cut short: {size} bytes where its header announces {n_items} {kind.name} "
            f"({expected} bytes)",
        )
    if size > expected:
        raise _damaged(
            path,
            f"has {size - expected} bytes after the {n_items} {kind.name} its header announces",
        )
    return int(n_items)


def _check_labels(path: Path) -> None:
    labels = path.read_bytes()[LABELS.header_size :]
    if labels and max(labels) >= N_CLASSES:
        index = next(i for i, label in enumerate(labels) if label >= N_CLASSES)
        raise _damaged(
            path, f"holds label {labels[index]} at index {index}; MNIST's are 0-{N_CLASSES - 1}"
        )


def _damaged(path: Path, problem: str) -> DatasetDamagedError:
    return DatasetDamagedError(
        f"MNIST file {path} {problem}. Replace the files in {path.parent}: delete them and run "
        "once with device.download_files=true on a machine with network, or copy intact ones "
        "there (data=synthetic runs without them)."
    )
