"""dlconf's own callbacks as one Lightning callback: order, hooks, checkpoint states.

A run's evaluations, ``train_for`` and savers are grouped (``dlconf/callbacks/group.py``) so
Lightning dispatches one callback instead of seven on every hook call. The group must
behave as the same callbacks listed one by one, and a run checkpointed before groups
existed must resume with each evaluation's rhythm intact.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import Tensor, nn
from typing_extensions import override

from dlconf.callbacks import TrainForCallback, TrainingClock
from dlconf.callbacks.checkpoints import RunCheckpoint
from dlconf.callbacks.group import CallbackGroup
from dlconf.durations import parse_duration
from tests.conftest import ROOT, run_folders

ELBO_KEY = "EvaluationCallback{'name': 'ELBO'}"
GROUP_KEY = "CallbackGroup{'name': 'dlconf'}"


class Recorder(Callback):
    """Writes ``(name, hook)`` for the hooks it implements into a shared list."""

    def __init__(self, name: str, calls: list[tuple[str, str]]) -> None:
        super().__init__()
        self.name, self.calls = name, calls

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.calls.append((self.name, "on_train_start"))

    @override
    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        self.calls.append((self.name, f"on_train_batch_end {trainer.global_step}"))

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.calls.append((self.name, "on_train_end"))


class EndOnly(Callback):
    def __init__(self, calls: list[tuple[str, str]]) -> None:
        super().__init__()
        self.calls = calls

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.calls.append(("end only", "on_train_end"))


class Line(LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)

    @override
    def training_step(self, batch: list[Tensor], batch_idx: int) -> Tensor:
        loss: Tensor = self.linear(batch[0]).pow(2).mean()
        return loss

    @override
    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_members_are_called_in_order_and_only_for_the_hooks_they_implement() -> None:
    calls: list[tuple[str, str]] = []
    group = CallbackGroup("test", [Recorder("a", calls), EndOnly(calls), Recorder("b", calls)])
    trainer = Trainer(
        max_steps=2,
        callbacks=[group],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    data = torch.utils.data.TensorDataset(torch.ones(4, 1))
    trainer.fit(Line(), train_dataloaders=torch.utils.data.DataLoader(data))

    assert calls == [
        ("a", "on_train_start"),
        ("b", "on_train_start"),
        ("a", "on_train_batch_end 1"),
        ("b", "on_train_batch_end 1"),
        ("a", "on_train_batch_end 2"),
        ("b", "on_train_batch_end 2"),
        ("a", "on_train_end"),
        ("end only", "on_train_end"),
        ("b", "on_train_end"),
    ]


@pytest.mark.quick
def test_a_member_with_a_hook_the_group_does_not_pass_on_is_refused() -> None:
    class OnValidation(Callback):
        @override
        def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
            pass

    with pytest.raises(ValueError, match="OnValidation: it implements on_validation_end"):
        CallbackGroup("test", [OnValidation()])


def _train_for(seconds: float) -> TrainForCallback:
    clock = TrainingClock(time_fn=lambda: 0.0)
    clock.restore(seconds)
    return TrainForCallback(parse_duration("10 global_steps"), clock)


@pytest.mark.quick
def test_each_members_state_is_kept_under_its_own_key_in_the_groups_entry() -> None:
    group = CallbackGroup("dlconf", [_train_for(12.5), EndOnly([])])
    assert group.state_key == GROUP_KEY
    assert group.state_dict() == {"TrainForCallback": {"training_seconds": 12.5}}


@pytest.mark.quick
@pytest.mark.parametrize("layout", ["grouped", "before groups", "in another group"])
def test_a_checkpoint_in_any_layout_restores_each_member(layout: str) -> None:
    states = {"TrainForCallback": {"training_seconds": 42.0}}
    entries = {
        "grouped": {GROUP_KEY: states},
        "before groups": states,
        "in another group": {"CallbackGroup{'name': 'other'}": states},
    }[layout]
    train_for = _train_for(0.0)
    group = CallbackGroup("dlconf", [train_for])
    group.on_load_checkpoint(Trainer(logger=False), Line(), {"callbacks": entries})
    assert train_for.state_dict() == {"training_seconds": 42.0}


@pytest.mark.quick
def test_run_checkpoint_keeps_model_checkpoints_state_key_and_follows_a_change() -> None:
    every = timedelta(minutes=15)
    checkpoint = RunCheckpoint(monitor="ELBO/Validation", mode="max", train_time_interval=every)
    plain = ModelCheckpoint(monitor="ELBO/Validation", mode="max", train_time_interval=every)
    assert checkpoint.state_key == plain.state_key
    checkpoint.monitor = plain.monitor = "Accuracy/Validation"
    assert checkpoint.state_key == plain.state_key


SMALL = [
    "logger=tensorboard",
    "trainer.enable_progress_bar=false",
    "device.download_files=false",
    "params.encoder_layers=[32]",
    "params.decoder_layers=[32]",
    "params.batch_size=64",
    "eval_params.elbo.every=30 global_steps",
    "eval_params.elbo.n_samples=64",
    "eval_params.samples.every=1 day",
    "eval_params.reconstruction.every=1 day",
    "checkpoint.every=20 global_steps",
]


def _vae(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    result = subprocess.run(
        [sys.executable, "-m", "experiments.mnist_vae", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _elbo_steps(run_dir: Path) -> list[int]:
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    return [int(event.step) for event in events.Scalars("ELBO/Validation")]  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType, reportUnknownArgumentType]


def test_a_run_checkpointed_before_groups_resumes_each_evaluations_rhythm(
    mnist_root: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    _vae(
        "train_for=40 global_steps",
        f"device.data_root={mnist_root}",
        f"device.experiments_root={runs}",
        *SMALL,
    )
    (folder,) = run_folders(runs)
    last = folder / "checkpoints" / "last.ckpt"
    # Rewritten as dlconf wrote it before groups: each callback's state at the top level.
    checkpoint = torch.load(last, map_location="cpu", weights_only=False)
    checkpoint["callbacks"].update(checkpoint["callbacks"].pop(GROUP_KEY))
    assert checkpoint["callbacks"][ELBO_KEY]["evaluations"] == 3  # steps 0, 30 and 40 (end)
    torch.save(checkpoint, last)

    _vae(f"resume={folder}", "train_for=60 global_steps", f"device.data_root={mnist_root}")

    # Restored: no second evaluation at the resumed step 40, and the count goes on.
    assert _elbo_steps(folder) == [0, 30, 40, 60]
    resumed = torch.load(last, map_location="cpu", weights_only=False)
    assert resumed["global_step"] == 60
    assert resumed["callbacks"][GROUP_KEY][ELBO_KEY]["evaluations"] == 4
