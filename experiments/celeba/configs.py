"""Configs both CelebA experiments share: the data sets, the encoder, the prior, their params.

The seed's ``data/CelebA.yaml`` and ``architectures/CelebA.yaml``, typed. The optimization is
MNIST's batch-Adam config (``experiments.mnist.configs.batch_adam``): the procedure does not
depend on the data set.
"""

from __future__ import annotations

from dataclasses import field

from dlconf import DataSplits, Device, HyperParams, conf, link
from experiments.celeba.architectures import IMAGE_SIZE, ConvEncoder, ConvLayer
from experiments.celeba.data import SPLITS, CelebA, TargetType
from experiments.celeba.synthetic import SyntheticFaces
from experiments.mnist.architectures import DiagonalNormalPrior


def seed_encoder_layers() -> list[ConvLayer]:
    """The seed's encoder: the 218 x 218 frame down to 256 x 1 x 1."""
    return [
        ConvLayer(in_channels=3, out_channels=64, kernel_size=5, stride=2),
        ConvLayer(in_channels=64, out_channels=128, kernel_size=7, stride=3),
        ConvLayer(in_channels=128, out_channels=256, kernel_size=7, stride=3),
        ConvLayer(in_channels=256, out_channels=256, kernel_size=7, stride=3),
        ConvLayer(in_channels=256, out_channels=256, kernel_size=2, stride=1),
    ]


class CelebAParams(HyperParams):
    """The hyper-parameters of the images, the shared encoder and the prior."""

    z_dim: int = 64
    """Number of latent dimensions."""
    image_size: list[int] = field(default_factory=lambda: list(IMAGE_SIZE))
    """``[height, width]`` of the images; CelebA's own is [218, 178]. Smaller sizes resize
    (and need layer lists that fit them)."""
    encoder_layers: list[ConvLayer] = field(default_factory=seed_encoder_layers)
    """The encoder's convolutions, input to output (ReLU between)."""

    def __post_init__(self) -> None:
        if self.z_dim < 1:
            raise ValueError(f"params.z_dim must be >= 1, got {self.z_dim}; e.g. params.z_dim=64")
        if len(self.image_size) != 2 or min(self.image_size) < 1:
            raise ValueError(
                f"params.image_size must be [height, width], got {self.image_size}; "
                "e.g. params.image_size=[218,178]"
            )
        post_init = getattr(super(), "__post_init__", None)
        if post_init is not None:  # the next params base in an experiment's Params
            post_init()


p = link(CelebAParams)
d = link(Device)

ENCODER = conf(ConvEncoder)(z_dim=p.z_dim, layers=p.encoder_layers, image_size=p.image_size)
PRIOR = conf(DiagonalNormalPrior)(z_dim=p.z_dim)


def celeba_data(target_type: TargetType) -> dict[str, DataSplits]:
    """``data=celeba`` (default) and ``data=synthetic``, with ``target_type`` as ``y``.

    The synthetic faces' targets are always their landmarks.
    """
    return {
        # The real thing, read by torchvision from <device.data_root>/celeba.
        "celeba": {
            split: conf(CelebA)(
                root=d.data_root,
                split=split,
                target_type=target_type,
                download=d.download_files,
                image_size=p.image_size,
                num_workers=d.num_workers,
            )
            for split in SPLITS
        },
        # Rendered faces with known landmarks: for machines with no CelebA on disk.
        "synthetic": {
            split: conf(SyntheticFaces)(split=split, image_size=p.image_size) for split in SPLITS
        },
    }
