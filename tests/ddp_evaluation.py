"""Evaluate ELBO and accuracy at the start of a one-step fit on N CPU processes (gloo).

    python -m tests.ddp_evaluation 2 OUT_DIR

Writes ``OUT_DIR/entries.json`` (rank zero: what was logged, by name) and
``OUT_DIR/rank<r>.json`` (how many examples each process scored), for
``tests/test_ddp_evaluation.py`` to compare 1 process with 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.loggers import Logger
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution
from torch.utils.data import Dataset

from dlconf.callbacks import EvaluationCallback, TrainingClock
from dlconf.data import Batch, Sample
from dlconf.durations import global_steps
from dlconf.evaluation import AccuracyEvaluation, ELBOEvaluation, LogEntry, ScalarsEntry
from dlconf.optimization.batch_adam import AdamBatchOptimization


class Points(Dataset[Sample]):
    """``n`` fixed random points in 4-D with a label from their sign; read sample by sample."""

    def __init__(self, n: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, 4, generator=generator)  # (N, 4)
        self.y = (self.x[:, 0] > 0).long()  # (N,)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> Sample:
        return {"x": self.x[index], "y": self.y[index]}


class Noisy(nn.Module):
    """A model whose ``elbo`` draws random numbers, as a VAE's does, and that predicts."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 2)
        self.scored = 0  # examples this process evaluated

    def compute_loss(self, batch: Batch) -> dict[str, Tensor]:
        return {"loss": self.layer(batch["x"]).pow(2).mean()}  # not counted: not evaluated

    def elbo(self, x: Tensor) -> Tensor:
        self.scored += x.shape[0]
        noise = torch.randn_like(x[:, :2])  # (B, 2)
        return -(self.layer(x) + noise).pow(2).sum(dim=1)  # (B,)

    def predict(self, x: Tensor) -> Distribution:
        self.scored += x.shape[0]
        return Categorical(logits=self.layer(x))  # (B, 2)


class Entries(Logger):
    """Keeps what the evaluation callbacks log, by name and step."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, dict[str, float]] = {}

    def log(self, name: str, entry: LogEntry, step: int, counters: Any) -> None:
        if isinstance(entry, ScalarsEntry):
            self.entries[f"{name}@{step}"] = dict(entry.values)

    @property
    def name(self) -> str:
        return "entries"

    @property
    def version(self) -> str:
        return "0"

    def log_metrics(self, metrics: Any, step: int | None = None) -> None:
        pass

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass


def main(devices: int, out: Path) -> None:
    seed_everything(0, verbose=False)
    data = {"train": Points(50, seed=1), "valid": Points(50, seed=2)}
    model = Noisy()
    optimization = AdamBatchOptimization(model, data, batch_size=10, lr=1e-3)
    clock = TrainingClock()
    splits = ("train", "valid")
    logger = Entries()
    trainer = Trainer(
        accelerator="cpu",
        devices=devices,
        strategy="ddp" if devices > 1 else "auto",
        max_steps=1,
        logger=logger,
        callbacks=[
            EvaluationCallback(
                "ELBO", ELBOEvaluation(45, splits, batch_size=8), global_steps(100), clock
            ),
            EvaluationCallback(
                "Accuracy", AccuracyEvaluation(45, splits, batch_size=8), global_steps(100), clock
            ),
        ],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    trainer.fit(optimization)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{trainer.global_rank}.json").write_text(json.dumps({"scored": model.scored}))
    if trainer.is_global_zero:
        (out / "entries.json").write_text(json.dumps(logger.entries))


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
