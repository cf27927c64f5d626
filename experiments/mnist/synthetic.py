"""Synthetic MNIST-like digits rendered locally, for machines without the real data.

Each digit is a hand-drawn template of polylines. An image jitters the template's points,
maps them through a random affine transform (rotation, scale, shear, shift), and paints
every pixel by its distance to the nearest stroke segment, with a random stroke width and
edge softness, and uneven ink. Rendering is one batch of tensor operations per class,
so the 50,000 training images take about a second on two CPU cores.

    >>> digits = SyntheticDigits("train", size=1000)
    >>> len(digits), digits[0]["x"].shape, digits.labels.bincount().tolist()
    (1000, torch.Size([1, 28, 28]), [100, 100, 100, 100, 100, 100, 100, 100, 100, 100])

Images follow MNIST's conventions: ``(1, 28, 28)`` floats in ``[0, 1]``, white digit on
black, about 17 pixels tall and centred in a 20 x 20 box. Labels are balanced over the ten
classes.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal, get_args

import torch
from torch import Tensor
from torch.utils.data import Dataset

from dlconf.data import Sample

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = get_args(Split)
DEFAULT_SIZES: dict[Split, int] = {"train": 50_000, "valid": 10_000, "test": 10_000}
"""MNIST's own split sizes, so ``data=synthetic`` is a drop-in replacement."""

SIDE = 28
CENTRE = (SIDE - 1) / 2
_CHUNK = 256  # images rendered at once: keeps the (chunk, segments, 784) tensors small

Stroke = list[tuple[float, float]]


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 10) -> Stroke:
    """A closed polygon approximating an ellipse (first point repeated at the end)."""
    points = [
        (cx + rx * math.cos(2 * math.pi * k / n), cy + ry * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]
    return [*points, points[0]]


# Template coordinates: x to the right in about [-0.55, 0.55], y downwards in [-1, 1].
TEMPLATES: tuple[list[Stroke], ...] = (
    [_ellipse(0.0, 0.0, 0.5, 0.95)],
    [[(-0.3, -0.65), (0.1, -1.0), (0.05, 1.0)]],
    [
        [
            (-0.45, -0.6),
            (-0.2, -0.95),
            (0.2, -0.95),
            (0.45, -0.6),
            (0.35, -0.15),
            (-0.5, 1.0),
            (0.55, 1.0),
        ]
    ],
    [
        [(-0.45, -0.8), (0.0, -1.0), (0.4, -0.8), (0.4, -0.35), (0.0, -0.05)],
        [(0.0, -0.05), (0.45, 0.25), (0.45, 0.7), (0.0, 1.0), (-0.5, 0.8)],
    ],
    [[(0.25, 1.0), (0.25, -1.0), (-0.55, 0.35), (0.55, 0.35)]],
    [
        [
            (0.5, -1.0),
            (-0.35, -1.0),
            (-0.45, -0.1),
            (0.1, -0.25),
            (0.45, 0.1),
            (0.45, 0.6),
            (0.1, 1.0),
            (-0.5, 0.8),
        ]
    ],
    [
        [(0.35, -1.0), (-0.1, -0.7), (-0.45, -0.1), (-0.45, 0.55), (-0.15, 1.0), (0.25, 0.95)],
        [(0.25, 0.95), (0.45, 0.5), (0.3, 0.05), (-0.1, 0.0), (-0.45, 0.3)],
    ],
    [[(-0.5, -1.0), (0.5, -1.0), (0.25, -0.3), (-0.05, 1.0)]],
    [_ellipse(0.0, -0.5, 0.35, 0.45, 8), _ellipse(0.0, 0.48, 0.45, 0.52, 8)],
    [_ellipse(0.0, -0.45, 0.42, 0.5, 8), [(0.42, -0.45), (0.35, 0.3), (0.2, 1.0)]],
)


def _segments(strokes: list[Stroke]) -> tuple[Tensor, Tensor]:
    """The template's points ``(K, 2)`` and its segments as point-index pairs ``(S, 2)``."""
    points: list[tuple[float, float]] = []
    pairs: list[tuple[int, int]] = []
    for stroke in strokes:
        start = len(points)
        points.extend(stroke)
        pairs.extend((start + k, start + k + 1) for k in range(len(stroke) - 1))
    return torch.tensor(points), torch.tensor(pairs)


def _random_affine(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Per-image linear maps ``(n, 2, 2)`` and shifts ``(n, 2)`` into centred pixel units."""

    def uniform(low: float, high: float) -> Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)  # (n,)

    angle = uniform(-0.25, 0.25)  # radians, about ±15 degrees, like MNIST's tilt
    shear = uniform(-0.35, 0.35)  # handwriting slants
    scale_x = 8.5 * uniform(0.75, 1.2)  # template half-height 1 -> about 8.5 pixels
    scale_y = 8.5 * uniform(0.85, 1.1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    zeros = torch.zeros(n)
    shear_scale = torch.stack(
        [torch.stack([scale_x, shear * scale_y], -1), torch.stack([zeros, scale_y], -1)], -2
    )
    linear = rotation @ shear_scale  # (n, 2, 2)
    shift = 2 * torch.rand(n, 2, generator=generator) - 1  # (n, 2) up to a pixel off-centre
    return linear, shift


def _pixel_features() -> tuple[Tensor, Tensor]:
    """Pixel centres as ``(x, y, 1)`` rows ``(3, 784)`` and ``(x, y, x²+y², 1)`` ``(4, 784)``.

    Coordinates are relative to the image centre so the squared terms stay small and float32
    keeps the distances exact to well under a pixel.
    """
    grid = torch.arange(SIDE, dtype=torch.float32) - CENTRE
    x, y = grid.repeat(SIDE), grid.repeat_interleave(SIDE)  # (784,) each, row-major
    ones = torch.ones_like(x)
    return torch.stack([x, y, ones]), torch.stack([x, y, x * x + y * y, ones])


def _render(points: Tensor, pairs: Tensor, width: Tensor, softness: Tensor) -> Tensor:
    """Paint ``(n, 28, 28)`` images from points ``(n, K, 2)`` in pixels from the centre.

    The squared distance from pixel p to segment a + t·ab, t in [0, 1], is
    ``|p - a|² - 2·t·u + t²·|ab|²`` with ``u = (p - a)·ab`` and ``t = clamp(u / |ab|², 0, 1)``.
    ``|p - a|²`` and ``u`` are linear in the pixel features, so both come out of one batched
    matrix product each: about twice as fast as subtracting coordinates pixel by pixel,
    which is what keeps 50,000 images near a second.
    """
    pxy, pxy2 = _pixel_features()  # (3, 784), (4, 784)
    a = points[:, pairs[:, 0]]  # (n, S, 2) segment starts
    ab = points[:, pairs[:, 1]] - a  # (n, S, 2) segment directions
    length2 = (ab * ab).sum(-1, keepdim=True).clamp_min(1e-6)  # (n, S, 1)
    a_dot_ab = (a * ab).sum(-1, keepdim=True)  # (n, S, 1)
    a2 = (a * a).sum(-1, keepdim=True)  # (n, S, 1)
    u = torch.cat([ab, -a_dot_ab], -1) @ pxy  # (n, S, 784)
    t = (u / length2).clamp_(0.0, 1.0)  # (n, S, 784)
    correction = (t * length2).sub_(u, alpha=2.0).mul_(t)  # t²|ab|² - 2tu
    coefficients = torch.cat([-2.0 * a, torch.ones_like(a2), a2], -1)  # (n, S, 4)
    distance2 = torch.baddbmm(correction, coefficients, pxy2.expand(len(a), -1, -1))
    distance = distance2.amin(dim=1).clamp_min_(0.0).sqrt()  # (n, 784) to nearest stroke
    ink = ((width[:, None] - distance) / softness[:, None] + 0.5).clamp_(0.0, 1.0)
    return ink.view(-1, SIDE, SIDE)


def _split_seed(split: Split, seed: int) -> int:
    """One generator seed per (split, seed) pair, distinct for every pair."""
    return seed * len(SPLITS) + SPLITS.index(split)


@lru_cache(maxsize=6)
def generate(split: Split, size: int, seed: int) -> tuple[Tensor, Tensor]:
    """Images ``(size, 1, 28, 28)`` in ``[0, 1]`` and labels ``(size,)``, cached in-process.

    The returned tensors are shared by every caller with the same arguments: do not modify
    them in place.
    """
    generator = torch.Generator().manual_seed(_split_seed(split, seed))
    labels = (torch.arange(size) % 10)[torch.randperm(size, generator=generator)]  # (size,)
    images = torch.empty(size, SIDE, SIDE)
    for digit, strokes in enumerate(TEMPLATES):
        template, pairs = _segments(strokes)  # (K, 2), (S, 2)
        index = (labels == digit).nonzero().squeeze(1)  # (n,)
        n = len(index)
        jitter = 0.06 * torch.randn(n, *template.shape, generator=generator)  # (n, K, 2)
        linear, shift = _random_affine(n, generator)
        points = (template + jitter) @ linear.transpose(1, 2) + shift[:, None]  # (n, K, 2)
        width = 0.8 + 1.0 * torch.rand(n, generator=generator)  # half-width in pixels
        softness = 0.8 + 0.8 * torch.rand(n, generator=generator)  # edge blur in pixels
        for start in range(0, n, _CHUNK):
            part = slice(start, start + _CHUNK)
            images[index[part]] = _render(points[part], pairs, width[part], softness[part])
    # Noise on the ink only: MNIST's background is exactly 0, its strokes are uneven.
    noise = 1.0 + 0.15 * torch.randn(size, SIDE, SIDE, generator=generator)
    images = images.mul_(noise).clamp_(0.0, 1.0)
    return images[:, None], labels


class SyntheticDigits(Dataset[Sample]):
    """MNIST-shaped digits rendered locally; ``size`` defaults to MNIST's split size.

    ``images`` ``(N, 1, 28, 28)`` and ``labels`` ``(N,)`` are public so a loader can batch
    by index without going through ``__getitem__``.
    """

    def __init__(self, split: Split, size: int | None = None, seed: int = 0) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if size is not None and size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.split = split
        self.images, self.labels = generate(split, size or DEFAULT_SIZES[split], seed)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Sample:
        return {"x": self.images[index], "y": self.labels[index]}

    def tensors(self) -> dict[str, Tensor]:
        """The whole split, ``{"x": images, "y": labels}``: training batches it by index."""
        return {"x": self.images, "y": self.labels}
