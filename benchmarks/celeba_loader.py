"""CelebA loading: images decoded once into uint8 against torchvision's per-sample JPEG path.

    python -m benchmarks.celeba_loader            # about 2 minutes on 2 CPU cores
    python -m benchmarks.celeba_loader --quick    # seconds: checks that it runs

A copy of CelebA in torchvision's layout (2,000 full-size 178 x 218 JPEGs of synthetic faces
and the five tables, written to a temporary folder) is read for one shuffled epoch, batch
64, landmarks as targets, by

- torchvision's CelebA with ``transform=ToTensor()`` (PIL decodes each JPEG when it is read)
  in a ``DataLoader``, with no worker and with 2 workers (this machine's cores);
- dlconf's ``experiments.celeba.data.CelebA``: every image decoded once into the uint8
  pixel cache beside the data (memory-mapped), or into memory, then one slice and a float
  conversion per sample.

The ratio is against torchvision with no worker. The cache is built once per data set and
image size (its cost per image is printed below the table); on a machine whose memory holds
less than the cache file (23.6 GB for all of CelebA), reads come from disk instead of the
page cache, which this benchmark does not measure.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, cast
from unittest import mock

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import ToTensor

from benchmarks.timing import Table, header, interleave, median, parser, setup
from experiments.celeba import cache
from experiments.celeba.data import CelebA, _Tables

BATCH_SIZE = 64


def samples_per_second(make: Callable[[], Iterable[Any]]) -> float:
    """One pass over a fresh loader (worker start-up included), in samples/s."""
    start = time.perf_counter()
    samples = 0
    for batch in make():
        x = cast(Tensor, batch["x"] if isinstance(batch, dict) else batch[0])
        samples += len(x)
    return samples / (time.perf_counter() - start)


def loader(dataset: Dataset[Any], num_workers: int) -> DataLoader[Any]:
    return DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=num_workers)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    setup(args)
    repeats = args.repeats or (1 if args.quick else 5)
    n = 128 if args.quick else 2_000
    header(f"CelebA loader: samples/s over {n} full-size images, batch {BATCH_SIZE}")
    from tests.celeba_files import write_celeba

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_celeba(root, n, partition=lambda _: 0)
        vision = _Tables(str(root), "train", target_type="landmarks", transform=ToTensor())
        start = time.perf_counter()
        mapped = CelebA(str(root), "train", target_type="landmarks", num_workers=2)
        build = time.perf_counter() - start
        with mock.patch.object(cache, "open_cache", return_value=None):
            in_memory = CelebA(str(root), "train", target_type="landmarks")
        makers: dict[str, Callable[[], Iterable[Any]]] = {
            "torchvision per-sample (PIL), 0 workers": partial(loader, vision, 0),
            "torchvision per-sample (PIL), 2 workers": partial(loader, vision, 2),
            "dlconf, uint8 cache (memory-mapped), 0 workers": partial(loader, mapped, 0),
            "dlconf, uint8 cache (memory-mapped), 2 workers": partial(loader, mapped, 2),
            "dlconf, uint8 in memory, 0 workers": partial(loader, in_memory, 0),
        }
        rates = interleave(
            [(name, partial(samples_per_second, make)) for name, make in makers.items()],
            repeats,
        )
    baseline = rates[next(iter(makers))]
    table = Table(["loader (one epoch, batch 64)", "samples/s", "vs torchvision, 0 workers"])
    for name, values in rates.items():
        ratios = [value / base for value, base in zip(values, baseline, strict=True)]
        table.add(name, median(values), f"{median(ratios):.1f}x")
    print(table)
    print(
        f"\nBuilding the cache (once; 2 decoding workers): {1e3 * build / n:.2f} ms per image."
        f"\n{repeats} interleaved rounds; torch threads {torch.get_num_threads()}."
    )


if __name__ == "__main__":
    main()
