"""GPU check: dlconf against hand-written loops on one CUDA GPU, in one call, in < 8 minutes.

    python -m benchmarks.gpu                   # on a machine with a CUDA GPU: the real check
    python -m benchmarks.gpu --quick           # seconds; on the CPU too (the tests run it)
    python -m benchmarks.gpu --device cpu      # the same tables on the CPU (slow, budgeted)

Two tables.

**MNIST VAE, data on the device.** ``experiments.mnist_vae`` (batch 128, MNIST-format IDX
files written to a temporary folder) trained by a hand-written loop and by dlconf, in fp32,
in bf16 autocast (Lightning's ``bf16-mixed``) and in fp32 through ``torch.compile``. The hand
loop copies the split to the GPU once, draws each epoch's order there, takes batches by
index and reads the losses every 50 steps. dlconf runs the experiment as configured
(TensorBoard, its evaluations at their rhythm, train_for, checkpoints, progress bar) with
``optimization.data_on_device=true``, ``device.precision=...`` and
``optimization.compile_model=...``. Both are timed by one optimizer-step hook over the same
window of steps after a warm-up that covers compiling (and recompiling for the last, smaller
batch of the first epoch); the GPU is synchronised at the window's two edges only. Rounds
are interleaved (A B, B A, ...); the ratio is the median of the per-round ratios.

**CelebA loader feeding the GPU.** A CelebA copy (synthetic faces as JPEGs, torchvision's
layout) read by ``experiments.celeba_vae``'s own loader (the optimization's
``train_dataloader()``: the uint8 cache, ``device.num_workers`` workers, pinned memory),
each batch copied to the GPU: batches/s delivered, against the batches/s the GPU consumes
when the batch is already there (the same model and Adam, one resident batch), and dlconf's
``celeba_vae`` run fed by that loader. The loader keeps up when it delivers at least what
the step consumes.

GPU utilisation: NVIDIA's share of time with a kernel running, sampled during each timed
window (see ``benchmarks.gpu_utilisation``); "n/a" without a GPU or a tool to read it.

A time budget (``--budget``, 420 s from the start of ``main``) keeps the run under 8
minutes: a measurement that would not finish in time is skipped and listed under the tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from hydra_zen import instantiate
from omegaconf import DictConfig

from benchmarks.gpu_loops import (
    Precision,
    WindowClock,
    delivered_per_second,
    hand_mnist_loop,
    resident_steps,
)
from benchmarks.gpu_report import (
    CelebAResult,
    Measurement,
    Pair,
    celeba_table,
    mnist_table,
    summarise_skipped,
)
from benchmarks.gpu_report import workers as report_workers
from benchmarks.gpu_utilisation import Sampler, device_properties, reader_for
from benchmarks.timing import header, parser, setup
from benchmarks.workloads import config, fit, mnist_root, scratch
from dlconf.data import Batch
from dlconf.errors import ConfigError, exit_with


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does; one preset per kind of run."""

    skip: int
    """MNIST warm-up steps. On a GPU, past the first epoch's end (step 391), so compiling
    again for the last, smaller batch of an epoch is warm-up too."""
    steps: int
    """MNIST timed steps: on a GPU, a few seconds, so utilisation gets a dozen readings."""
    repeats: int
    """Interleaved MNIST rounds."""
    celeba_images: int
    celeba_batch: int
    celeba_skip: int
    celeba_steps: int
    quick: bool = False
    """Small MNIST files and 40 x 32 CelebA images (with layer lists that fit them)."""


CUDA_SIZES = Sizes(
    skip=400, steps=2000, repeats=3, celeba_images=1500, celeba_batch=64,
    celeba_skip=10, celeba_steps=60,
)  # fmt: skip
CPU_SIZES = Sizes(
    skip=20, steps=100, repeats=3, celeba_images=300, celeba_batch=16,
    celeba_skip=2, celeba_steps=5,
)  # fmt: skip
QUICK_SIZES = Sizes(
    skip=3, steps=6, repeats=1, celeba_images=60, celeba_batch=8,
    celeba_skip=2, celeba_steps=3, quick=True,
)  # fmt: skip

SMALL_CELEBA = (
    "params.image_size=[40,32]",
    "params.encoder_layers=[{in_channels:3,out_channels:16,kernel_size:4,stride:2},"
    "{in_channels:16,out_channels:32,kernel_size:5,stride:2},"
    "{in_channels:32,out_channels:64,kernel_size:8,stride:1}]",
    "params.decoder_layers=[{in_channels:64,out_channels:32,kernel_size:8,stride:1},"
    "{in_channels:32,out_channels:16,kernel_size:5,stride:2},"
    "{in_channels:16,out_channels:3,kernel_size:4,stride:2}]",
    "params.z_dim=16",
    "eval_params.elbo.n_samples=8",
)
"""The tests' small CelebA (``tests/test_celeba_experiments.py``): 40 x 32 images."""


@dataclass(frozen=True)
class MnistRow:
    label: str
    precision: Precision
    compiled: bool


MNIST_ROWS = (
    MnistRow("fp32", "32-true", compiled=False),
    MnistRow("bf16-mixed", "bf16-mixed", compiled=False),
    MnistRow("fp32, torch.compile", "32-true", compiled=True),
)

QUICK_CPU_COMPILE = "skipped (--quick on a CPU: compiling takes ~20 s)"


@dataclass
class Budget:
    """Seconds left for measuring; a measurement is estimated by its last run (or a guess)."""

    seconds: float
    start: float = field(default_factory=time.perf_counter)
    last: dict[str, float] = field(default_factory=dict[str, float])
    skipped: list[str] = field(default_factory=list[str])
    failed: list[str] = field(default_factory=list[str])

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def run(self, kind: str, name: str, guess: float, work: Callable[[], None]) -> bool:
        """Run ``work`` if it should end within the budget; else list ``name`` as skipped.
        True when it ran and did not fail.

        A measurement that raises is listed as failed (its traceback on stderr) and the
        others go on: on a GPU machine lent for minutes, one failure must not cost the rest.
        """
        if self.elapsed() + self.last.get(kind, guess) > self.seconds:
            self.skipped.append(name)
            return False
        began = time.perf_counter()
        try:
            work()
        except Exception as error:
            traceback.print_exc()
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            self.failed.append(f"{name}: {type(error).__name__}: {first}")
            return False
        finally:
            self.last[kind] = time.perf_counter() - began
        return True


@dataclass(frozen=True)
class Setting:
    """What every measurement shares: the device, the sizes, the sampler, the budget."""

    device: torch.device
    sizes: Sizes
    workers: int
    sampler: Sampler
    budget: Budget

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def hardware(self, precision: Precision) -> list[str]:
        """The overrides that put a dlconf run on this device at this precision."""
        return [
            f"device.accelerator={self.device.type}",
            "device.devices=1",
            f"device.precision={precision}",
            "logger=tensorboard",
        ]

    def clock(self, skip: int, steps: int) -> WindowClock:
        return WindowClock(device=self.device, skip=skip, steps=steps, sampler=self.sampler)

    def measured(self, clock: WindowClock, batch: int) -> Measurement:
        return Measurement(batch / clock.window().wall, self.sampler.readings())


class MnistCheck:
    """The MNIST VAE rows: the hand loop and dlconf, round after round."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        root = mnist_root(setting.sizes.quick)
        self.data = (f"device.data_root={root}", "device.download_files=false")
        self.cfg = config("mnist_vae", self.data)
        train = instantiate(self.cfg.data.train)
        self.tensors = {"x": train.images, "y": train.labels}  # (N, 1, 28, 28), (N,)
        self.batch = int(self.cfg.params.batch_size)
        self.pairs = {row.label: Pair() for row in MNIST_ROWS}
        for row in MNIST_ROWS:
            if row.compiled and setting.sizes.quick and not setting.cuda:
                self.pairs[row.label].skipped = QUICK_CPU_COMPILE

    def hand(self, row: MnistRow, round_: int) -> None:
        sizes = self.setting.sizes
        clock = self.setting.clock(sizes.skip, sizes.steps)
        hand_mnist_loop(
            self.cfg, self.tensors, clock, precision=row.precision, compiled=row.compiled
        )
        self.pairs[row.label].hand[round_] = self.setting.measured(clock, self.batch)

    def dlconf(self, row: MnistRow, round_: int) -> None:
        sizes = self.setting.sizes
        clock = self.setting.clock(sizes.skip, sizes.steps)
        overrides = [
            *self.data,
            *self.setting.hardware(row.precision),
            "optimization.data_on_device=true",
            f"optimization.compile_model={str(row.compiled).lower()}",
            f"train_for={sizes.skip + sizes.steps + 1} global_steps",
        ]
        fit("mnist_vae", overrides, clock)
        self.pairs[row.label].dlconf[round_] = self.setting.measured(clock, self.batch)

    def round(self, round_: int) -> None:
        """Every row, hand then dlconf; the order reversed every other round."""
        cases = [
            (row, side)
            for row in MNIST_ROWS
            if not self.pairs[row.label].skipped
            for side in ("hand", "dlconf")
        ]
        for row, side in cases if round_ % 2 == 0 else reversed(cases):
            run = self.hand if side == "hand" else self.dlconf
            guess = (150.0 if row.compiled else 20.0) * (2 if side == "dlconf" else 1)
            self.setting.budget.run(
                f"{row.label}, {side}",
                f"MNIST {row.label} {side} (round {round_ + 1})",
                guess,
                functools.partial(run, row, round_),
            )


class CelebACheck:
    """celeba_vae's own loader alone, its step on a resident batch, dlconf fed by it."""

    def __init__(self, setting: Setting) -> None:
        self.setting = setting
        sizes = setting.sizes
        self.precision: Precision = "bf16-mixed" if setting.cuda else "32-true"
        self.result = CelebAResult(setting.workers, sizes.celeba_batch, self.precision)
        self.skip, self.steps = sizes.celeba_skip, sizes.celeba_steps
        self.overrides: list[str] = []
        self.cfg: DictConfig | None = None
        self.loader: Iterable[Batch] = ()

    def prepare(self) -> None:
        """Write the data set, compose ``celeba_vae``, and build the loader a run trains from."""
        from tests.celeba_files import write_celeba

        setting, sizes = self.setting, self.setting.sizes
        root = Path(tempfile.mkdtemp(prefix="celeba-", dir=scratch()))
        write_celeba(root, sizes.celeba_images, image_size=(40, 32) if sizes.quick else (218, 178))
        self.overrides = [
            f"device.data_root={root}",
            "device.download_files=false",
            *setting.hardware(self.precision),
            f"device.num_workers={setting.workers}",
            f"device.pin_memory={str(setting.cuda).lower()}",
            f"params.batch_size={sizes.celeba_batch}",
            *(SMALL_CELEBA if sizes.quick else ()),
        ]
        self.cfg = config("celeba_vae", self.overrides)
        self.result.image_size = tuple(int(s) for s in self.cfg.params.image_size)
        # CelebA is read per sample: a DataLoader with the device's workers and pinning.
        # Building the data set decodes the images into the uint8 cache, once.
        self.loader = instantiate(self.cfg.optimization).train_dataloader()

    def loader_alone(self) -> None:
        self.result.loader = delivered_per_second(
            lambda: self.loader, self.setting.device, 2 * self.steps, self.skip
        )

    def resident(self) -> None:
        assert self.cfg is not None
        clock = self.setting.clock(self.skip, self.steps)
        resident_steps(self.cfg, next(iter(self.loader)), clock, precision=self.precision)
        self.result.resident = self.setting.measured(clock, self.result.batch)

    def dlconf(self) -> None:
        clock = self.setting.clock(self.skip, self.steps)
        train_for = f"train_for={self.skip + self.steps + 1} global_steps"
        fit("celeba_vae", [*self.overrides, train_for], clock)
        self.result.fed = self.setting.measured(clock, self.result.batch)

    def run(self) -> CelebAResult:
        budget = self.setting.budget
        if budget.run("celeba data", "CelebA data set and loader", 60.0, self.prepare):
            budget.run("celeba loader", "CelebA loader alone", 30.0, self.loader_alone)
            budget.run("celeba resident", "CelebA step on a resident batch", 30.0, self.resident)
            budget.run("celeba dlconf", "CelebA dlconf run fed by the loader", 60.0, self.dlconf)
        self.loader = ()  # its worker processes end with it
        return self.result


def options() -> argparse.ArgumentParser:
    result = parser(__doc__ or "")
    result.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default=None,
        help="where to train (default: cuda when a CUDA GPU is visible, else cpu)",
    )
    result.add_argument(
        "--budget",
        type=float,
        default=420.0,
        help="seconds for all measurements (default 420: the whole run stays under 8 minutes)",
    )
    result.add_argument(
        "--workers",
        type=int,
        default=None,
        help="CelebA loader workers (default: min(8, cores) on a GPU, 1 with --quick, 0 on a CPU)",
    )
    # On a GPU machine torch keeps its own thread count (its cores are not shared); one
    # thread elsewhere, as every benchmark here (benchmarks/README.md, "Threads").
    result.set_defaults(threads=None)
    return result


def chosen_device(name: str | None) -> torch.device:
    """``--device``, or CUDA when there is a GPU; ``--device cuda`` without one is refused."""
    if name == "cuda" and not torch.cuda.is_available():
        exit_with(
            ConfigError(
                "--device cuda: no CUDA GPU is visible here (torch.cuda.is_available() is "
                "False); run this on a machine with one, or pass --device cpu"
            )
        )
    if name is None:
        name = "cuda" if torch.cuda.is_available() else "cpu"
        if name == "cpu" and shutil.which("nvidia-smi"):
            # A GPU this torch cannot use (hidden, or a driver older than its CUDA): say so
            # rather than let a CPU table pass for the GPU check.
            sys.stderr.write(
                f"warning: nvidia-smi is here but torch {torch.__version__} sees no CUDA GPU "
                f"(CUDA_VISIBLE_DEVICES, or a driver older than CUDA {torch.version.cuda}?); "
                "measuring on the CPU\n"
            )
    return torch.device(name)


def gpu_line(device: torch.device) -> str:
    """The GPU's CUDA version, compute capability and memory, for the README."""
    if device.type != "cuda":
        return "No CUDA GPU: utilisation is n/a."
    properties = device_properties(device)
    return (
        f"GPU: {properties.name}, compute capability {properties.major}.{properties.minor}, "
        f"{properties.total_memory / 2**30:.0f} GiB; torch built for CUDA {torch.version.cuda}."
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = options().parse_args(argv)
    budget = Budget(args.budget)  # from here: writing the data sets counts too
    device = chosen_device(args.device)
    cuda = device.type == "cuda"
    if args.threads is None:
        args.threads = 0 if cuda and not args.quick else 1
    setup(args)
    os.environ.setdefault("WANDB_MODE", "offline")  # no run here ever asks for a W&B login
    sizes = QUICK_SIZES if args.quick else CUDA_SIZES if cuda else CPU_SIZES
    if args.repeats:
        sizes = dataclasses.replace(sizes, repeats=args.repeats)
    workers = args.workers
    if workers is not None and workers < 0:
        exit_with(ConfigError(f"--workers must be 0 or more, got {workers}; e.g. --workers 8"))
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        workers = 1 if args.quick else min(8, cores) if cuda else 0
    header(f"GPU check on {device.type}: dlconf vs hand-written loops")
    print(gpu_line(device), flush=True)
    source = reader_for(device)
    with Sampler(None if source is None else source[0]) as sampler:
        setting = Setting(device, sizes, workers, sampler, budget)
        mnist = MnistCheck(setting)
        mnist.round(0)
        celeba = CelebACheck(setting).run()  # before later rounds: the budget cuts those first
        for round_ in range(1, sizes.repeats):
            mnist.round(round_)
    print(mnist_table(mnist.pairs, device.type))
    print()
    print(celeba_table(celeba, device.type))
    print()
    print(celeba.verdict())
    sampled = (
        "n/a (no GPU, or neither pynvml nor nvidia-smi)"
        if source is None
        else f"{source[1]}, every 0.25 s of each timed window"
    )
    print(
        f"GPU utilisation: {sampled}. MNIST: {sizes.repeats} interleaved rounds of "
        f"{sizes.skip} warm-up + {sizes.steps} timed steps; CelebA: {sizes.celeba_skip} "
        f"warm-up + {sizes.celeba_steps} timed steps, "
        f"{report_workers(workers)} loading; torch threads {torch.get_num_threads()}."
    )
    skipped = f"; skipped for time: {summarise_skipped(budget.skipped)}" if budget.skipped else ""
    print(f"Measured in {budget.elapsed():.0f} s of a {args.budget:.0f} s budget{skipped}.")
    if budget.failed:
        print("Failed (tracebacks above, on stderr): " + "; ".join(budget.failed) + ".")
        sys.exit(1)


if __name__ == "__main__":
    main()
