"""Data path: batching in-memory MNIST by index against torchvision's per-sample path.

    python -m benchmarks.data_path            # about 2 minutes on 2 CPU cores
    python -m benchmarks.data_path --quick    # seconds: checks that it runs

As a loader: samples per second over one shuffled epoch of MNIST's training images (MNIST-
format IDX files written to a temporary folder), batch 128, for

- torchvision's per-sample path: ``torchvision.datasets.MNIST(transform=ToTensor())`` (a PIL
  image per sample) in a ``DataLoader``, with no worker and with 2 workers (this machine's
  cores);
- dlconf's MNIST split in a ``DataLoader`` (``optimization.fast_loading=false``): tensors in
  memory, but ``__getitem__`` and collate per sample;
- dlconf's fast path (:mod:`dlconf.loading`): one ``index_select`` per field per batch.

Goal: the fast path >= 3x torchvision's per-sample path. In training: samples per second of
``experiments.mnist_vae`` (and of the tiny VAE, where data loading weighs more) with the fast
path against ``optimization.fast_loading=false``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, cast

import torch
import torchvision
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import ToTensor

from benchmarks.timing import Cost, Table, header, interleave, median, parser, setup
from benchmarks.workloads import TINY_MODEL, fit_cost, mnist_root
from dlconf.loading import IndexBatchSampler, TensorBatches
from experiments.mnist.data import MNIST

BATCH_SIZE = 128


def samples_per_second(make: Callable[[], Iterable[Any]]) -> float:
    """One full pass over a fresh loader (worker start-up included), in samples/s."""
    start = time.perf_counter()
    samples = 0
    for batch in make():
        x = cast(Tensor, batch["x"] if isinstance(batch, dict) else batch[0])
        samples += len(x)
    return samples / (time.perf_counter() - start)


def loaders(root: Path) -> dict[str, Callable[[], Iterable[Any]]]:
    vision = torchvision.datasets.MNIST(str(root), train=True, transform=ToTensor())
    split = MNIST(str(root), "train")
    fast_sampler = IndexBatchSampler(len(split), BATCH_SIZE, seed=0)
    fast = TensorBatches(split.tensors(), fast_sampler)
    epochs = iter(range(1_000_000))

    def fast_epoch() -> Iterable[Any]:
        fast_sampler.set_epoch(next(epochs))
        return fast

    return {
        "torchvision per-sample, 0 workers": partial(per_sample, vision, 0),
        "torchvision per-sample, 2 workers": partial(per_sample, vision, 2),
        "dlconf split, DataLoader (fast_loading=false)": partial(per_sample, split, 0),
        "dlconf fast path (batch by index)": fast_epoch,
    }


def per_sample(dataset: Dataset[Any], num_workers: int) -> DataLoader[Any]:
    """A shuffled DataLoader: ``__getitem__`` and collate for every sample."""
    return DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    setup(args)
    repeats = args.repeats or (1 if args.quick else 5)
    root = mnist_root(args.quick)
    header("Data path: samples/s, fast path vs per-sample loading")

    makers = loaders(root)
    rates = interleave(
        [(name, partial(samples_per_second, make)) for name, make in makers.items()],
        repeats,
    )
    baseline_name = next(iter(makers))
    baseline = rates[baseline_name]
    table = Table(["loader (one epoch, batch 128)", "samples/s", "vs torchvision (goal >= 3x)"])
    for name, values in rates.items():
        ratios = [value / base for value, base in zip(values, baseline, strict=True)]
        table.add(name, median(values), f"{median(ratios):.1f}x")
    print(table)

    data = (f"device.data_root={root}", "device.download_files=false", "logger=tensorboard")
    training = Table(["training", "batch", "per-sample samples/s", "fast samples/s", "ratio"])
    for name, model, batch, skip, steps in (
        ("MNIST VAE", (), BATCH_SIZE, 10, 10 if args.quick else 150),
        ("tiny VAE", TINY_MODEL, 16, 20, 20 if args.quick else 800),
    ):

        def run(fast: bool, m: tuple[str, ...] = model, s: int = skip, n: int = steps) -> Cost:
            flag = f"optimization.fast_loading={str(fast).lower()}"
            return fit_cost("mnist_vae", [*data, *m, flag], s, n)

        costs = interleave(
            [("per-sample", partial(run, False)), ("fast", partial(run, True))],
            repeats,
        )
        slow, fast = costs["per-sample"], costs["fast"]
        training.add(
            name,
            batch,
            batch / median([c.wall for c in slow]),
            batch / median([c.wall for c in fast]),
            f"{median([s.wall / f.wall for s, f in zip(slow, fast, strict=True)]):.2f}x",
        )
    print()
    print(training)
    print(f"\n{repeats} interleaved rounds; torch threads {torch.get_num_threads()}.")


if __name__ == "__main__":
    main()
