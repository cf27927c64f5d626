"""Your own experiment, from scratch: a data set, a model and their params in one module.

Two interleaved half-moons, classified by a small network; it trains in seconds on a CPU
and needs no download. Copy this file to start an experiment of your own.

    python -m experiments.from_scratch
    python -m experiments.from_scratch params.hidden=64 train_for="500 global_steps"
    python -m experiments.from_scratch --help
"""

from __future__ import annotations

import itertools
import math
from dataclasses import field

import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution
from torch.utils.data import Dataset

from dlconf import (
    DATA,
    TEST,
    TRAIN,
    VALID,
    Batch,
    Checkpoint,
    Device,
    Duration,
    EvalSettings,
    Evaluate,
    Experiment,
    HyperParams,
    Run,
    Sample,
    Split,
    conf,
    global_steps,
    link,
    main,
)
from dlconf.evaluation import AccuracyEvaluation
from dlconf.optimization import AdamBatchOptimization

# -- the data: samples are dicts of tensors, one data set object per split -------------------

SPLIT_SEEDS: dict[Split, int] = {TRAIN: 0, VALID: 1, TEST: 2}


class TwoMoons(Dataset[Sample]):
    """``size`` points of two interleaved half circles: ``{"x": (2,), "y": ()}``.

    Each split draws its own points from its own seed, so the splits never overlap and
    every run sees the same ones.
    """

    def __init__(self, split: Split, size: int = 2000, noise: float = 0.1) -> None:
        generator = torch.Generator().manual_seed(SPLIT_SEEDS[split])
        angle = torch.rand(size, generator=generator) * math.pi  # (N,)
        y = torch.randint(0, 2, (size,), generator=generator)  # (N,)
        upper = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)  # (N, 2)
        lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
        x = torch.where(y[:, None] == 0, upper, lower)
        self.x = x + noise * torch.randn(x.shape, generator=generator)
        self.y = y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> Sample:
        return {"x": self.x[index], "y": self.y[index]}

    def tensors(self) -> dict[str, Tensor]:
        # Whole tensors let the optimization batch by index instead of sample by sample.
        return {"x": self.x, "y": self.y}


# -- the model: data-agnostic logic; abilities are plain methods (see dlconf.models) ---------


class MoonsClassifier(nn.Module):
    """q(y | x) by a small network: ``compute_loss`` trains it, ``predict`` evaluates it."""

    def __init__(self, hidden_layers: list[int], n_classes: int = 2) -> None:
        super().__init__()
        sizes = [2, *hidden_layers]
        layers: list[nn.Module] = []
        for size_in, size_out in itertools.pairwise(sizes):
            layers += [nn.Linear(size_in, size_out), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], n_classes))

    def predict(self, x: Tensor) -> Distribution:
        return Categorical(logits=self.net(x))  # batch shape (B,)

    def compute_loss(self, batch: Batch) -> dict[str, Tensor]:
        # "loss" is minimized; every other key is only logged (Train/<key>).
        nll = -self.predict(batch["x"]).log_prob(batch["y"]).mean()
        return {"loss": nll}


# -- params, eval params, components, the experiment -----------------------------------------


class Params(HyperParams):
    hidden_layers: list[int] = field(default_factory=lambda: [32, 32])
    """Hidden layer sizes of the classifier."""
    lr: float = 1e-2
    """Adam's learning rate."""
    batch_size: int = 64


class AccuracyParams(EvalSettings):
    every: Duration = global_steps(50)
    n_samples: int = 1000
    """Points of each split the accuracy is measured on."""


class EvalParams(EvalSettings):
    accuracy: AccuracyParams = field(default_factory=AccuracyParams)


p = link(Params)
e = link(EvalParams)
d = link(Device)

accuracy = Evaluate(
    "Accuracy",
    conf(AccuracyEvaluation)(n_samples=e.accuracy.n_samples),
    every=e.accuracy.every,
)

experiment = Experiment(
    name="from_scratch",
    params=Params(),
    eval_params=EvalParams(),
    data={"moons": {split: conf(TwoMoons)(split=split) for split in SPLIT_SEEDS}},
    optimization=conf(AdamBatchOptimization)(
        model=conf(MoonsClassifier)(hidden_layers=p.hidden_layers),
        data=DATA,
        lr=p.lr,
        batch_size=p.batch_size,
        num_workers=d.num_workers,
        pin_memory=d.pin_memory,
    ),
    evaluation=[accuracy],
    run=Run(project="from_scratch", name="moons"),
    train_for=global_steps(300),
    checkpoint=Checkpoint(monitor=accuracy.on(VALID)),
)

if __name__ == "__main__":
    main(experiment)
