"""Write a small MNIST in the real on-disk IDX format, for tests without the real data.

``write_mnist_idx(tmp_path)`` puts the four uncompressed files torchvision reads under
``tmp_path/MNIST/raw``, so ``torchvision.datasets.MNIST(tmp_path)`` and our ``MNIST``
wrapper take the real code path. By default the images are rendered synthetic digits, so a
model trained on them learns something measurable.

IDX (http://yann.lecun.com/exdb/mnist/): a big-endian header, magic number 2051 for
images (``0x0803``: unsigned bytes, 3 dimensions) or 2049 for labels (``0x0801``: unsigned
bytes, 1 dimension), then one big-endian int32 per dimension, then the raw bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path

import torch
from torch import Tensor

from experiments.mnist.synthetic import SyntheticDigits

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def write_idx(path: Path, magic: int, array: Tensor) -> None:
    """One IDX file: magic, the dimensions, then the uint8 contents in row-major order."""
    if array.dtype != torch.uint8:
        raise TypeError(f"IDX files here hold uint8, got {array.dtype}")
    header = struct.pack(f">{1 + array.dim()}i", magic, *array.shape)
    path.write_bytes(header + array.contiguous().numpy().tobytes())


def to_bytes(images: Tensor) -> Tensor:
    """Images as MNIST stores them: uint8 ``(N, 28, 28)``, floats in [0, 1] scaled by 255."""
    if images.dtype != torch.uint8:
        images = (images * 255).round().clamp(0, 255).to(torch.uint8)
    return images.reshape(-1, 28, 28)


def write_mnist_idx(
    root: Path,
    n_train: int = 600,
    n_test: int = 100,
    images: Tensor | None = None,
    labels: Tensor | None = None,
    seed: int = 0,
) -> Path:
    """Write ``root/MNIST/raw`` with ``n_train`` training and ``n_test`` test examples.

    ``images`` ``(n_train + n_test, [1,] 28, 28)`` (uint8, or floats in [0, 1]) and
    ``labels`` ``(n_train + n_test,)`` hold the training examples first, then the test ones;
    left out, synthetic digits (seeded by ``seed``) are written. Returns the raw folder.
    """
    if (images is None) != (labels is None):
        raise ValueError("give both images and labels, or neither")
    if images is None or labels is None:
        train = SyntheticDigits("train", size=n_train, seed=seed)
        test = SyntheticDigits("test", size=n_test, seed=seed)
        images = torch.cat([train.images, test.images])
        labels = torch.cat([train.labels, test.labels])
    if len(images) != n_train + n_test or len(labels) != n_train + n_test:
        raise ValueError(
            f"expected {n_train} + {n_test} examples, got {len(images)} images"
            f" and {len(labels)} labels"
        )
    pixels, targets = to_bytes(images), labels.to(torch.uint8)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, part in (("train", slice(None, n_train)), ("t10k", slice(n_train, None))):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", IMAGES_MAGIC, pixels[part])
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", LABELS_MAGIC, targets[part])
    return raw
