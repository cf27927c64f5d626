"""A diverged run stops with one message naming the step and what went non-finite."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

from dlconf.errors import NonFiniteError
from dlconf.runner.non_finite import NonFiniteGuard, diverged


class _Model(LightningModule):
    """Trains a 2-weight layer; its gradient is infinite from step ``bad_from`` on."""

    def __init__(self, bad_from: int = 10**9) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.bad_from = bad_from

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = self.layer(batch).pow(2).mean()
        if self.global_step >= self.bad_from:
            loss = loss + (self.layer.weight - self.layer.weight.detach()).abs().sum().sqrt()
        return loss  # finite; sqrt's gradient at 0 is not

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self) -> torch.utils.data.DataLoader[torch.Tensor]:
        return torch.utils.data.DataLoader(torch.ones(16, 2), batch_size=2)  # type: ignore[arg-type]


def _fit(model: _Model, tmp_path: Path) -> None:
    Trainer(
        max_steps=6,
        callbacks=[NonFiniteGuard(), ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=1)],
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    ).fit(model)


def test_weights_made_non_finite_by_a_gradient_never_reach_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(NonFiniteError) as error:
        _fit(_Model(bad_from=3), tmp_path)  # the update of step 3 (global step 3 -> 4)
    assert str(error.value).startswith(
        "non-finite parameters at global step 4: layer.weight (a non-finite gradient was "
        "applied). Training stopped without saving them; the last checkpoint is good."
    )
    (last,) = tmp_path.glob("*.ckpt")  # ModelCheckpoint keeps one: the step before
    assert last.name == "epoch=0-step=3.ckpt"
    state = torch.load(last, weights_only=True)["state_dict"]
    assert all(bool(torch.isfinite(value).all()) for value in state.values())


def test_a_finite_run_is_left_alone(tmp_path: Path) -> None:
    _fit(_Model(), tmp_path)
    assert len(list(tmp_path.glob("*.ckpt"))) == 1


def test_an_exception_in_a_step_with_non_finite_weights_is_a_diverged_run() -> None:
    model = _Model()
    with torch.no_grad():
        model.layer.bias.fill_(float("nan"))
    stop = diverged(RuntimeError("anything"), model, 7)
    assert stop is not None
    assert str(stop).startswith(
        "non-finite parameters at global step 7: layer.bias (a non-finite gradient was "
        "applied; then RuntimeError in the step)."
    )


def test_torch_distributions_refusing_overflowed_outputs_is_a_diverged_run() -> None:
    model = _Model()
    with torch.no_grad():
        model.layer.weight.fill_(1e30)
    with pytest.raises(ValueError) as refused:
        torch.distributions.Normal(torch.tensor([float("nan")]), 1.0, validate_args=True)
    stop = diverged(refused.value, model, 1)
    assert stop is not None
    assert str(stop).startswith(
        "non-finite outputs of the model at global step 1 (a distribution's loc): its weights "
        "grew too large (the largest is 1e+30, in layer.weight)."
    )


def test_an_unrelated_error_stays_what_it_is() -> None:
    assert diverged(ValueError("a bug"), _Model(), 1) is None
