"""Configs every MNIST experiment shares: the data sets, the encoder, the prior, the optimization.

The seed's ``data/MNIST.yaml`` and ``architectures/MNIST.yaml``, typed. Both MNIST
experiments use these same objects: an encoder change here changes both.
"""

from __future__ import annotations

from dataclasses import field
from typing import TypeVar

from dlconf import DATA, DataSplits, Device, HyperParams, conf, link
from dlconf.models import TrainableModel
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTEncoder
from experiments.mnist.data import MNIST
from experiments.mnist.synthetic import SyntheticDigits


class EncoderParams(HyperParams):
    """The hyper-parameters of the shared encoder and prior; experiments' params extend it."""

    z_dim: int = 64
    """Number of latent dimensions."""
    encoder_layers: list[int] = field(default_factory=lambda: [1024, 128])
    """Hidden layer sizes of the encoder, input to output."""

    def __post_init__(self) -> None:
        if self.z_dim < 1:
            raise ValueError(f"params.z_dim must be >= 1, got {self.z_dim}; e.g. params.z_dim=64")
        if not self.encoder_layers or min(self.encoder_layers) < 1:
            raise ValueError(
                f"params.encoder_layers must be positive sizes, got {self.encoder_layers}; "
                "e.g. params.encoder_layers=[1024,128]"
            )
        _next_post_init(super())


class BatchParams(HyperParams):
    """The optimization's hyper-parameters."""

    lr: float = 1e-3
    """Adam's learning rate."""
    batch_size: int = 128

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(
                f"params.batch_size must be >= 1, got {self.batch_size}; e.g. params.batch_size=128"
            )
        if self.lr <= 0:
            raise ValueError(f"params.lr must be > 0, got {self.lr}; e.g. params.lr=1e-3")
        _next_post_init(super())


def _next_post_init(parent: object) -> None:
    # Experiments combine these params by inheritance (`class Params(EncoderParams,
    # BatchParams)`); each check hands on so every base's checks run, not just the first.
    post_init = getattr(parent, "__post_init__", None)
    if post_init is not None:
        post_init()


p = link(EncoderParams)
b = link(BatchParams)
d = link(Device)

ENCODER = conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers)
PRIOR = conf(DiagonalNormalPrior)(z_dim=p.z_dim)


M = TypeVar("M", bound=TrainableModel)


def batch_adam(model: M) -> AdamBatchOptimization[M]:
    """The seed's ``optimization/batch_ADAM.yaml``: ``model`` trained on the selected data
    set with Adam, hyper-parameters from ``params``, loading settings from the device."""
    return conf(AdamBatchOptimization)(
        model=model,
        data=DATA,
        lr=b.lr,
        batch_size=b.batch_size,
        num_workers=d.num_workers,
        pin_memory=d.pin_memory,
    )


MNIST_DATA: dict[str, DataSplits] = {
    # The real thing, read by torchvision from <device.data_root>/MNIST/raw.
    "mnist": {
        "train": conf(MNIST)(root=d.data_root, split="train", download=d.download_files),
        "valid": conf(MNIST)(root=d.data_root, split="valid", download=d.download_files),
        "test": conf(MNIST)(root=d.data_root, split="test", download=d.download_files),
    },
    # Rendered digits, made locally: for machines with no network and no MNIST on disk.
    "synthetic": {
        "train": conf(SyntheticDigits)(split="train"),
        "valid": conf(SyntheticDigits)(split="valid"),
        "test": conf(SyntheticDigits)(split="test"),
    },
}
"""The data sets any MNIST experiment can use: ``data=mnist`` (default) or ``data=synthetic``."""
