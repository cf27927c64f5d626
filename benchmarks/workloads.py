"""Workloads the benchmarks share: MNIST files, experiments run in-process, a hand-written loop.

MNIST cannot be downloaded on these machines, so benchmarks write MNIST-format IDX files
(rendered digits, the tests' ``write_mnist_idx``) to a temporary folder and read them through
torchvision, exactly as ``data=mnist`` reads the real files.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import os
import shutil
import tempfile
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, cast

import torch
from hydra import compose, initialize
from hydra.core.global_hydra import GlobalHydra
from hydra_zen import instantiate
from omegaconf import DictConfig
from torch import Tensor, nn
from typing_extensions import override

from benchmarks.timing import Cost, StepClock, quiet
from dlconf.data import Batch, DataSplits
from dlconf.models.protocols import TrainableModel
from dlconf.optimization import AdamBatchOptimization

TINY_MODEL = (
    "params.encoder_layers=[16]",
    "params.decoder_layers=[16]",
    "params.z_dim=2",
    "params.batch_size=16",
)
"""Overrides that shrink the MNIST VAE until per-step overhead dominates its step."""

NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"

MNIST_SIZE = (60_000, 10_000)
QUICK_MNIST_SIZE = (1_200, 200)


@functools.cache
def scratch() -> Path:
    """This process's folder for data and runs; removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix="dlconf-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def mnist_root(quick: bool) -> Path:
    """A data root holding ``MNIST/raw`` IDX files (MNIST's sizes unless quick)."""
    from tests.mnist_files import write_mnist_idx

    n_train, n_test = QUICK_MNIST_SIZE if quick else MNIST_SIZE
    root = Path(tempfile.mkdtemp(prefix="data-", dir=scratch()))
    write_mnist_idx(root, n_train=n_train, n_test=n_test)
    return root


def config(experiment: str, overrides: Sequence[str]) -> DictConfig:
    """``python -m experiments.<experiment> overrides...``'s composed config, in-process."""
    from dlconf.runner.store import store_experiment

    importlib.import_module("devices")  # registers this project's devices

    module = importlib.import_module(f"experiments.{experiment}")
    name = store_experiment(module.experiment)
    GlobalHydra.instance().clear()
    with initialize(version_base="1.3", config_path=None):
        return compose(name, overrides=list(overrides))


def fit(experiment: str, overrides: Sequence[str], clock: StepClock | None = None) -> StepClock:
    """Train as ``python -m experiments.<experiment>`` would, in this process; step times
    (in ``clock`` if given: a clock that also synchronises with a GPU, for instance)."""
    from dlconf.runner.job import train
    from dlconf.runner.opening import RunConfig, new_run

    with tempfile.TemporaryDirectory(dir=scratch(), ignore_cleanup_errors=True) as runs:
        args = [*overrides, f"device.experiments_root={runs}"]
        run = RunConfig.check(config(experiment, args))
        clock = clock if clock is not None else StepClock()
        with clock, quiet():
            train(run, new_run(run, args))
    return clock


def hand_loop(cfg: DictConfig, steps: int, *, log_every: int = 50, data: Any = None) -> StepClock:
    """The loop a researcher writes by hand: the config's model, data, batch size and Adam.

    Seeded like the run, shuffled every epoch, batched by index; every ``log_every`` steps it
    reads the losses (``.item()``), as a loop that prints or logs them would.
    """
    torch.default_generator.manual_seed(cfg.seed)  # the run's seed, so the same initial weights
    model: nn.Module = instantiate(cfg.optimization.model)
    trainable = cast(TrainableModel, model)
    train = data if data is not None else instantiate(cfg.data.train)
    images, labels = train.images, train.labels  # (N, 1, 28, 28), (N,)
    batch_size = int(cfg.params.batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg.params.lr))
    generator = torch.Generator().manual_seed(cfg.seed)
    history: list[dict[str, float]] = []
    step = 0
    with StepClock() as clock, without_lightning_env():
        while step < steps:
            order = torch.randperm(len(labels), generator=generator)
            for start in range(0, len(order), batch_size):
                index = order[start : start + batch_size]
                losses = trainable.compute_loss({"x": images[index], "y": labels[index]})
                optimizer.zero_grad()
                torch.autograd.backward(losses["loss"])
                optimizer.step()  # pyright: ignore[reportUnknownMemberType]  (torch leaves it untyped)
                step += 1
                if step % log_every == 0:
                    history.append({name: value.item() for name, value in losses.items()})
                if step == steps:
                    break
    return clock


@contextlib.contextmanager
def without_lightning_env() -> Generator[None, None, None]:
    """The environment of a process that never imported Lightning.

    Importing Lightning sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` for good; from then on, on a
    machine without NVIDIA's driver, every ``torch.cuda.is_available()`` tries to load NVML
    and fails, and ``Adam.step`` asks it on every step (about 0.15 ms here). A hand-written
    script that never imports Lightning does not pay that, so its loop runs without it.
    """
    saved = os.environ.pop(NVML_CHECK, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[NVML_CHECK] = saved


def fit_cost(experiment: str, overrides: Sequence[str], skip: int, steps: int) -> Cost:
    """Steady-state cost of a step in an in-process run of ``skip + steps + 1`` steps."""
    clock = fit(experiment, [*overrides, f"train_for={skip + steps + 1} global_steps"])
    return clock.cost(skip, steps)


def lightning_loop(cfg: DictConfig, steps: int, *, data: Any = None) -> StepClock:
    """The floor for anything built on Lightning: the same model, data and Adam in a bare
    LightningModule, trained with no logger, callbacks, progress bar or checkpoints."""
    from lightning.pytorch import LightningModule, Trainer

    from dlconf.loading import IndexBatchSampler, TensorBatches

    torch.default_generator.manual_seed(cfg.seed)
    model: nn.Module = instantiate(cfg.optimization.model)
    trainable = cast(TrainableModel, model)
    train = data if data is not None else instantiate(cfg.data.train)
    batches = TensorBatches(
        {"x": train.images, "y": train.labels},
        IndexBatchSampler(len(train.labels), int(cfg.params.batch_size), seed=cfg.seed),
    )
    lr = float(cfg.params.lr)

    class Bare(LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
            return trainable.compute_loss(batch)["loss"]

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.model.parameters(), lr=lr)

        def train_dataloader(self) -> TensorBatches:
            return batches

    with StepClock() as clock, quiet():
        trainer = Trainer(
            max_steps=steps,
            accelerator="cpu",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(Bare())
    return clock


class EveryStepLogging(AdamBatchOptimization):
    """dlconf's optimization as it was: ``Train/*`` through ``self.log`` on every step.

    Run it with ``optimization._target_=benchmarks.workloads.EveryStepLogging`` to see what
    logging at Lightning's rhythm instead saves.
    """

    def __init__(
        self, model: TrainableModel, data: DataSplits, batch_size: int, lr: float, **options: Any
    ) -> None:
        # Spelt out so the config's arguments are checked against names this module knows.
        super().__init__(model, data, batch_size, lr, **options)

    @override
    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        loss = super().training_step(batch, batch_idx)
        assert self._step_losses is not None
        self.log_losses(self._step_losses)
        self._step_losses = None
        return loss
