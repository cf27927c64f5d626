"""Samples from a trained VAE, reloaded from its run onto this machine.

python -m experiments.sample_vae runs/VAE_experiments/My_First_VAE/2026-11-21_18-32-33
python -m experiments.sample_vae my-team/VAE_experiments/1a2b3c4d --out samples.png --n 64
python -m experiments.sample_vae <run> --device laptop --checkpoint best

The model is rebuilt from the run's config with its trained weights (:func:`dlconf.load_run`),
with this machine's device in place of the one it trained on; the picture is a square grid of
the decoder's means for ``--n`` codes drawn from the prior.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
from lightning.pytorch import seed_everything
from torch import nn
from torchvision.utils import save_image  # pyright: ignore[reportUnknownVariableType]

from dlconf import ConfigError, DlconfError, load_run
from dlconf.errors import exit_with
from dlconf.models import GenerativeModel


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        out = sample(args.run, args.out, args.n, args.device, args.checkpoint, args.seed)
    except DlconfError as error:
        exit_with(error)  # one line; 2 for a wrong run, checkpoint or device
    print(f"wrote {args.n} samples to {out}")


def sample(run: str, out: Path, n: int, device: str | None, checkpoint: str, seed: int) -> Path:
    """Write ``n`` samples of the run's model to ``out`` as one PNG grid; returns ``out``."""
    model = load_run(run, "optimization.model", device=device, checkpoint=checkpoint)
    if not isinstance(model, nn.Module) or not isinstance(model, GenerativeModel):
        raise ConfigError(
            f"the model of {run} is a {type(model).__name__}, which cannot sample: "
            "give the run of a generative model (a VAE)"
        )
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    seed_everything(seed, verbose=False)  # the same picture for the same run and seed
    with torch.no_grad():
        images = model.sample((n,))  # (n, C, H, W), the decoder's means in [0, 1]
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.cpu(), out, nrow=math.ceil(math.sqrt(n)))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.sample_vae",
        description="Sample images from the VAE of a finished run.",
    )
    parser.add_argument("run", help="a run folder, or a W&B run path entity/project/run_id")
    parser.add_argument("--out", type=Path, default=Path("samples.png"), help="the PNG to write")
    parser.add_argument("--n", type=_positive, default=64, help="how many samples (default 64)")
    parser.add_argument(
        "--device", default=None, help="this machine's device (default: DEVICE_NAME, else default)"
    )
    parser.add_argument(
        "--checkpoint", default="last", help="last (default), best, or a checkpoint file name"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the prior's draws")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


if __name__ == "__main__":
    main()
