"""The hand-written side of ``benchmarks.gpu``: loops a researcher writes for one GPU.

Everything here runs on any device (the ``--quick`` test runs it on the CPU); on a GPU the
clock synchronises at the two edges of the timed window, so the window holds the GPU's work
and not only the host's queueing of it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import torch
from hydra_zen import instantiate
from omegaconf import DictConfig
from torch import Tensor, nn
from typing_extensions import override

from benchmarks.gpu_utilisation import Sampler
from benchmarks.timing import Cost, StepClock
from benchmarks.workloads import without_lightning_env
from dlconf.data import Batch
from dlconf.models.protocols import TrainableModel

Precision = Literal["32-true", "bf16-mixed"]
"""The two precisions the check compares, in Lightning's names."""


@dataclass
class WindowClock(StepClock):
    """A step clock whose window ``[skip, skip + steps]`` is synchronised and sampled.

    At the step that opens the window and at the one that closes it, the clock waits for the
    GPU (``torch.cuda.synchronize``) before reading the time, and opens or closes the
    utilisation sampler. Between them it only reads the time: a host sync on every step
    would change what is measured.
    """

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    skip: int = 0
    steps: int = 0
    sampler: Sampler | None = None

    @override
    def _record(self, *args: Any) -> None:
        done = len(self.stamps)  # this stamp's index
        edge = done in (self.skip, self.skip + self.steps)
        if edge and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        super()._record(*args)
        if self.sampler is None or not edge:
            return
        if done == self.skip:
            self.sampler.open()
        else:
            self.sampler.close()

    def window(self) -> Cost:
        return self.cost(self.skip, self.steps)


def autocast(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager[Any]:
    """What Lightning's ``bf16-mixed`` puts around the training step: bf16 autocast."""
    if precision == "bf16-mixed":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


LossFunction = Callable[[Batch], dict[str, Tensor]]


def trainable_on(
    cfg: DictConfig, device: torch.device, compiled: bool
) -> tuple[nn.Module, LossFunction]:
    """The config's model, seeded as the run seeds it, on ``device``; and its loss function,
    through ``torch.compile`` when ``compiled`` (what ``optimization.compile_model`` does)."""
    torch.default_generator.manual_seed(cfg.seed)  # the run's seed: the same initial weights
    if device.type == "cuda":
        torch.cuda.manual_seed_all(cfg.seed)
    model: nn.Module = instantiate(cfg.optimization.model)
    model.to(device)
    loss: LossFunction = cast(TrainableModel, model).compute_loss
    if compiled:
        loss = cast(LossFunction, torch.compile(loss))
    return model, loss


def hand_mnist_loop(
    cfg: DictConfig,
    data: dict[str, Tensor],
    clock: WindowClock,
    *,
    precision: Precision,
    compiled: bool,
    log_every: int = 50,
) -> None:
    """The MNIST VAE's loop written by hand for one GPU, data on the device.

    The split is copied to the device once; every epoch draws a new order there and takes
    each batch by index; Adam steps; every ``log_every`` steps the losses are read
    (``.item()``, a host sync), as a loop that prints them would. ``clock.skip +
    clock.steps + 1`` steps.
    """
    device = clock.device
    model, compute_loss = trainable_on(cfg, device, compiled)
    tensors = {name: tensor.to(device) for name, tensor in data.items()}  # (N, 1, 28, 28), (N,)
    size = len(tensors["x"])
    batch_size = int(cfg.params.batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg.params.lr))
    steps, step = clock.skip + clock.steps + 1, 0
    with clock, without_lightning_env():
        while step < steps:
            order = torch.randperm(size, device=device)  # (N,)
            for index in torch.split(order, batch_size):  # (B,) each
                with autocast(device, precision):
                    losses = compute_loss({name: t[index] for name, t in tensors.items()})
                optimizer.zero_grad()
                torch.autograd.backward(losses["loss"])
                optimizer.step()  # pyright: ignore[reportUnknownMemberType]  (torch leaves it untyped)
                step += 1
                if step % log_every == 0:
                    _ = {name: value.item() for name, value in losses.items()}
                if step == steps:
                    break


def resident_steps(
    cfg: DictConfig, batch: Batch, clock: WindowClock, *, precision: Precision
) -> None:
    """Adam steps on one batch that stays on the device: what the GPU can consume, with no
    loader in the way. ``clock.skip + clock.steps + 1`` steps."""
    device = clock.device
    model, compute_loss = trainable_on(cfg, device, compiled=False)
    resident = {name: tensor.to(device) for name, tensor in batch.items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg.params.lr))
    with clock, without_lightning_env():
        for _ in range(clock.skip + clock.steps + 1):
            with autocast(device, precision):
                loss = compute_loss(resident)["loss"]
            optimizer.zero_grad()
            torch.autograd.backward(loss)
            optimizer.step()  # pyright: ignore[reportUnknownMemberType]  (torch leaves it untyped)


def delivered_per_second(
    make: Callable[[], Iterable[Batch]], device: torch.device, batches: int, skip: int
) -> float:
    """Batches per second a loader delivers onto ``device``, copies included.

    Iterates fresh epochs of ``make()`` until ``skip + batches`` batches have been copied
    (``non_blocking``: from pinned memory the copy overlaps the next fetch); the clock starts
    after ``skip`` batches (worker start-up) and stops once the last copy is done.
    """
    seen, start = 0, 0.0
    while seen < skip + batches:
        for batch in make():
            if seen == skip:
                _synchronize(device)
                start = time.perf_counter()
            _ = {name: tensor.to(device, non_blocking=True) for name, tensor in batch.items()}
            seen += 1
            if seen == skip + batches:
                break
    _synchronize(device)
    return batches / (time.perf_counter() - start)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
