"""The MNIST VAE fitted for one step by a bare Lightning script, with no logger.

    python -m benchmarks.bare_lightning DATA_ROOT RUN_FOLDER

The floor of ``benchmarks.first_step``: anything built on Lightning pays at least this.
Lightning's defaults otherwise (progress bar, model summary, checkpoint), as a user's first
script would have them.
"""

from __future__ import annotations

import sys

import torch
from lightning.pytorch import LightningModule, Trainer, seed_everything
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from benchmarks.bare_vae import BATCH_SIZE, LR, VAE, mnist_train


class Module(LightningModule):
    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root
        self.vae = VAE()

    def train_dataloader(self) -> DataLoader[tuple[Tensor, ...]]:
        images, labels = mnist_train(self.root)
        return DataLoader(TensorDataset(images, labels), batch_size=BATCH_SIZE, shuffle=True)

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return self.vae.loss(batch[0])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=LR)


def main() -> None:
    seed_everything(42)
    trainer = Trainer(max_steps=1, logger=False, default_root_dir=sys.argv[2])
    trainer.fit(Module(sys.argv[1]))


if __name__ == "__main__":
    main()
