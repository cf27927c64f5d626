"""Synthetic face-like images with known landmarks, for machines without CelebA.

Each image is a background, an oval face (tilted a little), two eyes, a nose and a mouth,
each at its own position, size and colour, drawn with soft one-pixel edges and a little
noise. The targets are the true landmark positions in CelebA's order and units (pixels,
``lefteye_x, lefteye_y, righteye_x, righteye_y, nose_x, nose_y, leftmouth_x, leftmouth_y,
rightmouth_x, rightmouth_y``), so the landmark VIB has something real to learn:

    >>> faces = SyntheticFaces("valid", size=100, image_size=(64, 52))
    >>> faces[0]["x"].shape, faces.landmarks.shape
    (torch.Size([3, 64, 52]), torch.Size([100, 10]))

Deterministic by ``seed``: the face parameters of a split are drawn at construction (a few
numbers per face, so any size is cheap). A split whose pixels take at most 256 MB as uint8
(a test's, a small try) is rendered then, in batches; a larger one (CelebA's 162,770 faces
at 218 x 178 would be 19 GB) renders each image when it is read, in the ``DataLoader``'s
workers where there are some (about a millisecond at 218 x 178, single-threaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from dlconf.data import Sample
from experiments.celeba.architectures import IMAGE_SIZE

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = get_args(Split)
DEFAULT_SIZES: dict[Split, int] = {"train": 162_770, "valid": 19_867, "test": 19_962}
"""CelebA's own split sizes, so ``data=synthetic`` is a drop-in replacement."""
NOISE = 0.03
PRERENDER_BYTES = 256 * 2**20
"""Splits up to this many uint8 pixels are rendered at construction, larger ones on access."""
_CHUNK = 256  # faces rendered at once: bounds the (chunk, H, W) float temporaries


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)  # (n,)


def draw_faces(n: int, image_size: tuple[int, int], generator: torch.Generator) -> Tensor:
    """``(n, 25)`` face parameters, in pixels and radians (see :func:`render` for the layout)."""
    height, width = image_size
    r = generator

    def u(low: float, high: float) -> Tensor:
        return _uniform(n, low, high, r)

    half_width = width * u(0.22, 0.36)  # face half-width a
    half_height = torch.minimum(half_width * u(1.15, 1.45), torch.tensor(height * 0.45))
    columns = [
        width * u(0.32, 0.68),  # 0 face centre x
        height * u(0.38, 0.62),  # 1 face centre y
        half_width,  # 2 a
        half_height,  # 3 b
        u(-0.2, 0.2),  # 4 tilt (radians)
        half_width * u(0.32, 0.5),  # 5 eye offset from the middle
        -half_height * u(0.15, 0.4),  # 6 eye height (up is negative)
        half_width * u(0.08, 0.16),  # 7 eye radius
        half_height * u(0.0, 0.2),  # 8 nose height
        half_width * u(0.07, 0.14),  # 9 nose radius
        half_width * u(0.22, 0.45),  # 10 mouth half-width
        half_height * u(0.4, 0.62),  # 11 mouth height
        half_height * u(0.04, 0.1),  # 12 mouth half-height
    ]
    colours = torch.rand(n, 4, 3, generator=r)  # background, skin, eyes, mouth
    colours[:, 1] = 0.45 + 0.5 * colours[:, 1]  # skin: lighter than
    colours[:, 2] = 0.35 * colours[:, 2]  # eyes: dark
    colours[:, 3] = torch.stack([u(0.5, 1.0), u(0.0, 0.35), u(0.1, 0.4)], -1)  # reddish lips
    # Columns 13-24: the colours (background, skin, eyes, mouth); the nose is darker skin.
    return torch.cat([torch.stack(columns, -1), colours.flatten(1)], -1)


def landmarks_of(faces: Tensor) -> Tensor:
    """The 5 landmarks ``(n, 10)`` in pixels, ``x, y`` per point, CelebA's order."""
    cx, cy, tilt = faces[:, 0], faces[:, 1], faces[:, 4]
    eye_x, eye_y, nose_y, mouth_x, mouth_y = (faces[:, i] for i in (5, 6, 8, 10, 11))
    zero = torch.zeros_like(cx)
    local_x = torch.stack([-eye_x, eye_x, zero, -mouth_x, mouth_x], -1)  # (n, 5)
    local_y = torch.stack([eye_y, eye_y, nose_y, mouth_y, mouth_y], -1)  # (n, 5)
    cos, sin = torch.cos(tilt)[:, None], torch.sin(tilt)[:, None]
    x = cx[:, None] + cos * local_x - sin * local_y  # (n, 5)
    y = cy[:, None] + sin * local_x + cos * local_y
    return torch.stack([x, y], -1).flatten(1)  # (n, 10)


Array = np.ndarray[Any, np.dtype[np.float32]]


def _array(tensor: Tensor) -> Array:
    array: Array = np.asarray(tensor.detach().cpu(), dtype=np.float32)
    return array


def _ellipse(x: Array, y: Array, centre: Array, rx: Array, ry: Array, tilt: Array) -> Array:
    """Soft coverage ``(n, H, W)`` in [0, 1] of tilted ellipses around ``centre`` ``(n, 2)``,
    edges about a pixel wide."""
    dx = x - centre[:, 0, None, None]  # (n, H, W)
    dy = y - centre[:, 1, None, None]
    cos, sin = np.cos(tilt)[:, None, None], np.sin(tilt)[:, None, None]
    u = (cos * dx + sin * dy) / rx[:, None, None]
    v = (-sin * dx + cos * dy) / ry[:, None, None]
    radius = np.minimum(rx, ry)[:, None, None]
    # Distance inside the edge, in pixels (exact on the short axis): 1 - |(u, v)| scaled.
    coverage: Array = np.clip((1 - np.sqrt(u * u + v * v)) * radius + 0.5, 0.0, 1.0)
    return coverage


def render(faces: Tensor, image_size: tuple[int, int], noise: Array | None = None) -> Tensor:
    """Images ``(n, 3, H, W)`` in [0, 1] of the faces ``(n, 25)`` drawn by :func:`draw_faces`.

    In numpy, which runs each operation on one thread: an image is many small operations,
    and torch's parallel kernels spend more synchronising two threads on them than they
    save (40x slower on a busy two-core machine).
    """
    height, width = image_size
    y = np.arange(height, dtype=np.float32)[None, :, None]  # (1, H, 1) pixel centres
    x = np.arange(width, dtype=np.float32)[None, None, :]  # (1, 1, W)
    f = _array(faces)  # (n, 25)
    cx, cy, a, b, tilt = (f[:, i] for i in range(5))
    background, skin, eyes, mouth = (f[:, 13 + 3 * k : 16 + 3 * k, None, None] for k in range(4))
    points = _array(landmarks_of(faces)).reshape(-1, 5, 2)  # (n, 5, 2)
    image = np.broadcast_to(background, (len(f), 3, height, width))  # (n, 3, H, W)
    eye_r, nose_r, mouth_w, mouth_h = f[:, 7], f[:, 9], f[:, 10], f[:, 12]
    mouth_centre = (points[:, 3] + points[:, 4]) / 2  # (n, 2) between the corners
    layers = [
        (_ellipse(x, y, np.stack([cx, cy], -1), a, b, tilt), skin),
        (_ellipse(x, y, points[:, 0], eye_r, eye_r * 0.6, tilt), eyes),
        (_ellipse(x, y, points[:, 1], eye_r, eye_r * 0.6, tilt), eyes),
        (_ellipse(x, y, points[:, 2], nose_r, nose_r * 1.3, tilt), skin * 0.7),
        (_ellipse(x, y, mouth_centre, mouth_w, mouth_h, tilt), mouth),
    ]
    for coverage, colour in layers:
        image = image + coverage[:, None] * (colour - image)  # painted over, by coverage
    if noise is not None:
        image = image + noise
    return torch.as_tensor(np.clip(image, 0.0, 1.0).astype(np.float32))


def _to_bytes(images: Tensor) -> Tensor:
    return images.mul(255.0).round_().to(torch.uint8)


def _split_seed(split: Split, seed: int) -> int:
    return seed * len(SPLITS) + SPLITS.index(split)


class SyntheticFaces(Dataset[Sample]):
    """Face-like images ``x`` ``(3, H, W)`` in [0, 1] with landmarks ``y`` ``(10,)`` in pixels.

    Args:
        split: ``train``, ``valid`` or ``test`` (different faces for each).
        size: faces in the split; defaults to CelebA's split size.
        seed: the same seed gives the same faces, pixel for pixel.
        image_size: ``[height, width]``; CelebA's own is ``[218, 178]``.
    """

    def __init__(
        self,
        split: Split,
        size: int | None = None,
        seed: int = 0,
        image_size: Sequence[int] = IMAGE_SIZE,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if size is not None and size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be [height, width], got {list(image_size)}")
        self.split = split
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.seed = _split_seed(split, seed)
        generator = torch.Generator().manual_seed(self.seed)
        self.faces = draw_faces(size or DEFAULT_SIZES[split], self.image_size, generator)
        self.landmarks = landmarks_of(self.faces)  # (N, 10)
        self._pixels: Tensor | None = None  # (N, 3, H, W) uint8 when pre-rendered
        count = len(self.faces)
        if count * 3 * self.image_size[0] * self.image_size[1] <= PRERENDER_BYTES:
            self._pixels = torch.cat(
                [
                    _to_bytes(self.images(torch.arange(start, min(start + _CHUNK, count))))
                    for start in range(0, count, _CHUNK)
                ]
            )

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, index: int) -> Sample:
        if self._pixels is not None:
            x = self._pixels[index].to(torch.float32).div_(255.0)  # (3, H, W)
        else:
            x = self.images(torch.tensor([index]))[0]
        return {"x": x, "y": self.landmarks[index]}

    def images(self, indices: Tensor) -> Tensor:
        """The images ``(n, 3, H, W)`` of faces ``indices`` ``(n,)``, rendered now."""
        noise = np.stack([self._noise(int(i)) for i in indices])  # (n, 3, H, W)
        return render(self.faces[indices], self.image_size, noise)

    def _noise(self, index: int) -> Array:
        # One generator per image: an image is the same whichever order it is read in.
        generator = np.random.default_rng(self.seed * 1_000_003 + index)
        noise: Array = generator.standard_normal((3, *self.image_size), dtype=np.float32)
        return noise * np.float32(NOISE)
