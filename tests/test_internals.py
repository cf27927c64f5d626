"""The private Hydra and Lightning APIs dlconf uses (dlconf/internals.py), each called here.

An upgrade that moves, renames or changes one of them fails this file, by name, before a
user's run meets it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.core.override_parser.overrides_parser import OverridesParser
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from dlconf import internals


def test_hydras_basic_sweeper_expands_a_sweep_into_jobs() -> None:
    parsed = OverridesParser.create().parse_overrides(["a=1,2", "b=x", "c=3,4"])
    assert internals.split_sweep(parsed) == [
        ["a=1", "b=x", "c=3"],
        ["a=1", "b=x", "c=4"],
        ["a=2", "b=x", "c=3"],
        ["a=2", "b=x", "c=4"],
    ]


def test_hydras_locate_finds_classes_and_functions_and_names_what_is_missing() -> None:
    assert internals.locate("lightning.pytorch.Trainer") is Trainer
    assert internals.locate("dlconf.internals.locate") is internals.locate
    with pytest.raises(ImportError, match="no_such_module"):
        internals.locate("dlconf.no_such_module.Thing")


class _Tiny(LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = self.layer(batch).pow(2).mean()
        self.log("loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self) -> torch.utils.data.DataLoader[torch.Tensor]:
        return torch.utils.data.DataLoader(torch.ones(4, 2), batch_size=2)  # type: ignore[arg-type]


def test_model_checkpoints_own_top_k_step_saves_the_best_by_the_monitored_metric(
    tmp_path: Path,
) -> None:
    checkpoint = ModelCheckpoint(dirpath=tmp_path, monitor="loss", save_top_k=1, filename="best")
    trainer = Trainer(
        max_steps=2,
        callbacks=[checkpoint],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(_Tiny())
    candidates = internals.monitor_candidates(checkpoint, trainer)
    assert "loss" in candidates and int(candidates["step"]) == 2
    # A second ModelCheckpoint that has saved nothing yet: its top-k step saves now (the
    # epoch counts as done when fit stops: epoch=1).
    other = ModelCheckpoint(dirpath=tmp_path / "other", monitor="loss", save_top_k=1)
    internals.save_top_k(other, trainer, candidates)
    assert other.best_model_path == str(tmp_path / "other" / "epoch=1-step=2.ckpt")
    assert Path(other.best_model_path).is_file()


def test_lightnings_logger_connector_says_when_it_writes_the_loggers() -> None:
    trainer = Trainer(logger=False, log_every_n_steps=1, enable_progress_bar=False)
    assert isinstance(internals.should_update_logs(trainer), bool)


def test_lightnings_accelerator_connector_keeps_use_distributed_sampler() -> None:
    assert internals.uses_distributed_sampler(Trainer(logger=False)) is True
    assert (
        internals.uses_distributed_sampler(Trainer(logger=False, use_distributed_sampler=False))
        is False
    )
