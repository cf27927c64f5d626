"""Write a small CelebA in torchvision's on-disk layout, for tests without the real data.

``write_celeba(root, n)`` puts ``root/celeba/img_align_celeba/000001.jpg ...`` and the five
tables torchvision reads (``list_eval_partition.txt``, ``list_attr_celeba.txt``,
``identity_CelebA.txt``, ``list_bbox_celeba.txt``, ``list_landmarks_align_celeba.txt``) in
the real files' formats: counts on the first line where CelebA has them, headers, space
separated columns, landmarks as whole pixels. The images are synthetic faces, so the landmark
table is their true landmarks and a model trained on the copy learns something measurable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image

from experiments.celeba.synthetic import SyntheticFaces

ATTRIBUTES = [f"Attribute_{i}" for i in range(40)]
LANDMARKS = [
    f"{point}_{axis}"
    for point in ("lefteye", "righteye", "nose", "leftmouth", "rightmouth")
    for axis in "xy"
]


def partition_of(index: int) -> int:
    """Split code of image ``index`` (0-based): 0 train, 1 valid, 2 test; 8 : 1 : 1."""
    return {8: 1, 9: 2}.get(index % 10, 0)


def write_celeba(
    root: Path,
    n: int = 300,
    image_size: tuple[int, int] = (218, 178),
    partition: Callable[[int], int] = partition_of,
) -> Path:
    """Write ``n`` faces and their tables under ``root/celeba``; returns that folder.

    ``partition(i)`` is the split code of image ``i`` (0 train, 1 valid, 2 test).
    """
    folder = root / "celeba"
    images = folder / "img_align_celeba"
    images.mkdir(parents=True, exist_ok=True)
    faces = SyntheticFaces("train", size=n, seed=7, image_size=image_size)
    landmarks = faces.landmarks.round().to(torch.long)  # (n, 10) whole pixels, as CelebA
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for start in range(0, n, 100):  # rendered in chunks: 2,000 full-size floats are 1 GB
        chunk = torch.arange(start, min(start + 100, n))
        pixels = (faces.images(chunk) * 255).round().to(torch.uint8)  # (100, 3, H, W)
        for index, image in zip(chunk.tolist(), pixels, strict=True):
            picture = Image.fromarray(image.permute(1, 2, 0).numpy())
            picture.save(images / names[index], quality=95)
    generator = torch.Generator().manual_seed(0)
    attributes = torch.randint(0, 2, (n, 40), generator=generator) * 2 - 1  # -1 or 1
    rows = range(n)
    (folder / "list_eval_partition.txt").write_text(
        "".join(f"{names[i]} {partition(i)}\n" for i in rows)
    )
    (folder / "identity_CelebA.txt").write_text("".join(f"{names[i]} {i // 3 + 1}\n" for i in rows))
    _counted(folder / "list_attr_celeba.txt", ATTRIBUTES, names, attributes.tolist())
    _counted(
        folder / "list_bbox_celeba.txt",
        ["image_id", "x_1", "y_1", "width", "height"],
        names,
        [[95, 71, 226, 313]] * n,
    )
    _counted(folder / "list_landmarks_align_celeba.txt", LANDMARKS, names, landmarks.tolist())
    return folder


def _counted(path: Path, header: list[str], names: list[str], values: list[list[int]]) -> None:
    # CelebA pads columns with spaces (`000001.jpg -1  1 -1`); torchvision skips them.
    lines = [
        f"{name} " + " ".join(f"{v:3d}" for v in row)
        for name, row in zip(names, values, strict=True)
    ]
    path.write_text("\n".join([str(len(names)), " ".join(header), *lines]) + "\n")
