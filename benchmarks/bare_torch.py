"""One Adam step of the MNIST VAE in plain PyTorch: ``python -m benchmarks.bare_torch ROOT``.

The context row of ``benchmarks.first_step``: what the first step costs with no framework.
"""

from __future__ import annotations

import sys

import torch

from benchmarks.bare_vae import BATCH_SIZE, LR, VAE, mnist_train


def main() -> None:
    torch.default_generator.manual_seed(42)
    images, _ = mnist_train(sys.argv[1])
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    index = torch.randperm(len(images))[:BATCH_SIZE]
    loss = model.loss(images[index])
    optimizer.zero_grad()
    torch.autograd.backward(loss)
    optimizer.step()  # pyright: ignore[reportUnknownMemberType]  (torch leaves it untyped)
    print(f"loss {loss.item():.1f}")


if __name__ == "__main__":
    main()
