"""What every benchmark shares: interleaved repetitions, step clocks, tables, the machine.

These machines are shared and noisy, so a benchmark never reports a lone number: it runs its
baseline and its candidates in the same process (or from the same parent), alternating their
order repetition after repetition (A B, B A, A B...), and reports the median of each and
the ratio of the medians. A load spike then hits both sides instead of one.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

T = TypeVar("T")


@dataclass(frozen=True)
class Cost:
    """Seconds per unit of work (a step, a sample), by the wall clock and in CPU time.

    CPU time counts every thread of this process, so background work (a logger's writer
    thread) is in it; time spent waiting for the core while other users' processes run is
    not. On a shared machine the CPU ratio is therefore the steadier of the two.
    """

    wall: float
    cpu: float


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def interleave(cases: Sequence[tuple[str, Callable[[], T]]], repeats: int) -> dict[str, list[T]]:
    """Run every case ``repeats`` times, reversing the order every other round.

    Each case returns one measurement; the result maps each case's name to its
    measurements in the order they were taken, so ``results[a][i]`` and ``results[b][i]``
    were taken side by side.
    """
    results: dict[str, list[T]] = {name: [] for name, _ in cases}
    for round_ in range(repeats):
        ordered = cases if round_ % 2 == 0 else list(reversed(cases))
        for name, run in ordered:
            results[name].append(run())
    return results


@dataclass
class StepClock:
    """Times every optimizer step in this process, whoever runs it (Lightning or a loop).

    A global post-step hook on :class:`torch.optim.Optimizer` appends ``perf_counter()``
    after each ``step()``: the same instrument for the framework and the hand-written loop.
    """

    stamps: list[float] = field(default_factory=list[float])
    cpu_stamps: list[float] = field(default_factory=list[float])

    def __enter__(self) -> StepClock:
        self._handle = register_optimizer_step_post_hook(self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.remove()

    def _record(self, *args: Any) -> None:
        self.stamps.append(time.perf_counter())
        self.cpu_stamps.append(time.process_time())

    def cost(self, skip: int, steps: int) -> Cost:
        """Seconds per step over ``steps`` steps after the first ``skip`` (warm-up) steps."""
        if len(self.stamps) < skip + steps + 1:
            raise RuntimeError(f"measured {len(self.stamps)} steps, need {skip + steps + 1}")
        end = skip + steps
        return Cost(
            (self.stamps[end] - self.stamps[skip]) / steps,
            (self.cpu_stamps[end] - self.cpu_stamps[skip]) / steps,
        )


@contextlib.contextmanager
def quiet() -> Generator[None, None, None]:
    """Silence stdout, stderr and logging (Lightning's banners, progress bars) in the block.

    Output is still formatted and written, to a sink, so what printing costs is measured.
    """
    sink = io.StringIO()
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield
    finally:
        logging.disable(logging.NOTSET)


@dataclass
class Table:
    """A Markdown table; ``str(table)`` prints it."""

    headers: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list[Sequence[str]])

    def add(self, *cells: object) -> None:
        self.rows.append([_cell(cell) for cell in cells])

    def __str__(self) -> str:
        widths = [
            max(len(str(h)), *(len(row[i]) for row in self.rows)) if self.rows else len(h)
            for i, h in enumerate(self.headers)
        ]

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(self.headers), rule, *(line(row) for row in self.rows)])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def ratio(candidate: float, baseline: float) -> str:
    """``candidate / baseline`` as ``1.03x``."""
    return f"{candidate / baseline:.2f}x"


def machine() -> str:
    """One line naming the machine, the libraries and the date, for the README."""
    import lightning

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (
        f"{_cpu_name()}, {cores} CPU cores, {gpu}; torch threads {torch.get_num_threads()}; "
        f"Python {platform.python_version()}, torch {torch.__version__}, "
        f"lightning {lightning.__version__}; "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: ``--quick``, ``--repeats``, ``--threads``."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks that it runs, numbers mean little"
    )
    result.add_argument("--repeats", type=int, default=None, help="interleaved repetitions")
    result.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on a shared 2-core machine a second thread "
        "waits for descheduled peers and makes every timing noisy); 0 keeps torch's default",
    )
    return result


def setup(args: argparse.Namespace) -> None:
    """Apply the common options: thread count."""
    if args.threads > 0:
        torch.set_num_threads(args.threads)


def header(title: str) -> None:
    print(f"## {title}\n\n{machine()}\n", flush=True)


@contextlib.contextmanager
def timed() -> Generator[list[float], None, None]:
    """``with timed() as t: ...`` then ``t[0]`` holds the block's seconds."""
    result: list[float] = []
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.append(time.perf_counter() - start)


def flush() -> None:
    sys.stdout.flush()
