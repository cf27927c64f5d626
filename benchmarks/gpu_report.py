"""What ``benchmarks.gpu`` measured, and the two tables and the verdict it prints.

Pure: no torch, no clock. Each measurement is kept with the round it was taken in, so a
ratio pairs a hand-loop run and a dlconf run of the same round even when the time budget
cut a round short.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmarks.gpu_utilisation import format_utilisation
from benchmarks.timing import Table

BUDGET_SKIPPED = "skipped (time budget)"


@dataclass(frozen=True)
class Measurement:
    """Samples per second over a timed window, and the utilisation readings taken in it."""

    samples_per_s: float
    readings: list[float] = field(default_factory=list[float])


@dataclass
class Pair:
    """One MNIST row: the hand loop's and dlconf's measurements, by round."""

    hand: dict[int, Measurement] = field(default_factory=dict[int, Measurement])
    dlconf: dict[int, Measurement] = field(default_factory=dict[int, Measurement])
    skipped: str = ""
    """Why the whole row did not run (empty when it did)."""

    def ratios(self) -> list[float]:
        """dlconf's samples/s over the hand loop's, for every round both ran in."""
        rounds = sorted(self.hand.keys() & self.dlconf.keys())
        return [self.dlconf[r].samples_per_s / self.hand[r].samples_per_s for r in rounds]


def median_rate(measurements: Mapping[int, Measurement]) -> float | None:
    if not measurements:
        return None
    return float(statistics.median(m.samples_per_s for m in measurements.values()))


def utilisation(measurements: Mapping[int, Measurement]) -> str:
    """Every reading of every round, averaged: ``"87%"`` or ``"n/a"``."""
    return format_utilisation([r for m in measurements.values() for r in m.readings])


def rate_cell(value: float | None) -> str:
    return BUDGET_SKIPPED if value is None else f"{value:,.0f}"


def mnist_table(pairs: Mapping[str, Pair], device: str) -> Table:
    """One row per precision / compile setting: samples/s, ratio, utilisation."""
    table = Table(
        [
            f"MNIST VAE on {device}, batch 128, data on the device",
            "hand samples/s",
            "dlconf samples/s",
            "dlconf / hand",
            "GPU util, hand",
            "GPU util, dlconf",
        ]
    )
    for label, pair in pairs.items():
        if pair.skipped:
            table.add(label, pair.skipped, "-", "-", "-", "-")
            continue
        ratios = pair.ratios()
        table.add(
            label,
            rate_cell(median_rate(pair.hand)),
            rate_cell(median_rate(pair.dlconf)),
            f"{statistics.median(ratios):.3f}x" if ratios else BUDGET_SKIPPED,
            utilisation(pair.hand),
            utilisation(pair.dlconf),
        )
    return table


@dataclass
class CelebAResult:
    """The CelebA measurements: each stays ``None`` if the budget skipped it."""

    workers: int
    batch: int
    precision: str
    image_size: tuple[int, ...] = (218, 178)
    batches_per_epoch: int = 0
    loader: float | None = None
    """Batches per second the loader delivered onto the device."""
    resident: Measurement | None = None
    """The step on one batch kept on the device: what the GPU consumes."""
    fed: Measurement | None = None
    """dlconf's celeba_vae run, fed by the loader."""

    def consumed(self) -> float | None:
        """Batches per second the GPU consumes, from the resident step."""
        return None if self.resident is None else self.resident.samples_per_s / self.batch

    def verdict(self) -> str:
        consumed = self.consumed()
        if self.loader is None or consumed is None:
            return "No verdict on the CelebA loader: a measurement was skipped for time."
        share = self.loader / consumed
        if share >= 1.0:
            return (
                f"The CelebA loader delivers {share:.2f}x the batches the step consumes: "
                "it keeps up."
            )
        return (
            f"The CelebA loader delivers {share:.2f}x the batches the step consumes: it does "
            f"not keep up with {workers(self.workers)}; the GPU waits for data (try more: "
            "device.num_workers=N)."
        )


def celeba_table(result: CelebAResult, device: str) -> Table:
    """Loader alone, step on a resident batch, dlconf fed by the loader."""
    height, width = result.image_size
    consumed = result.consumed()
    table = Table(
        [
            f"CelebA {height} x {width}, batch {result.batch}, on {device}",
            "samples/s",
            "batches/s",
            "vs the step on a resident batch",
            "GPU util",
        ]
    )

    def versus(batches: float | None) -> str:
        if batches is None or consumed is None:
            return "-"
        return f"{batches / consumed:.2f}x"

    pinned = ", pinned" if device == "cuda" else ""
    loader = result.loader
    table.add(
        f"celeba_vae's loader alone: {workers(result.workers)}{pinned}, copied to {device}",
        rate_cell(None if loader is None else loader * result.batch),
        BUDGET_SKIPPED if loader is None else f"{loader:,.1f}",
        versus(loader),
        "-",
    )
    for label, measured in (
        (f"celeba_vae step, batch resident on {device} ({result.precision})", result.resident),
        (f"dlconf celeba_vae fed by the loader ({result.precision})", result.fed),
    ):
        batches = None if measured is None else measured.samples_per_s / result.batch
        table.add(
            label,
            rate_cell(None if measured is None else measured.samples_per_s),
            BUDGET_SKIPPED if batches is None else f"{batches:,.1f}",
            versus(batches),
            "-" if measured is None else format_utilisation(measured.readings),
        )
    return table


def workers(count: int) -> str:
    return "1 worker" if count == 1 else f"{count} workers"


def summarise_skipped(names: list[str]) -> str:
    """``"A (round 2)", "A (round 3)", "B"`` as ``"A (rounds 2, 3), B"``, first-seen order."""
    rounds: dict[str, list[str]] = {}
    for name in names:
        base, _, tail = name.partition(" (round ")
        rounds.setdefault(base, [])
        if tail:
            rounds[base].append(tail.removesuffix(")"))
    parts: list[str] = []
    for base, numbers in rounds.items():
        if not numbers:
            parts.append(base)
        else:
            plural = "s" if len(numbers) > 1 else ""
            parts.append(f"{base} (round{plural} {', '.join(sorted(numbers, key=int))})")
    return ", ".join(parts)
