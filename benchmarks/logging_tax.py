"""Logging tax: training samples/s with TensorBoard and with W&B (offline) against no logger.

    python -m benchmarks.logging_tax            # about 4 minutes on 2 CPU cores
    python -m benchmarks.logging_tax --quick    # seconds: checks that it runs
    python -m benchmarks.logging_tax --entries-only   # only the entries' stall table

Training: ``experiments.mnist_vae`` and ``experiments.mnist_vib`` in this process at their
default rhythm (losses every 50 steps, evaluations every minute and at start and end), with
``logger=none``, ``logger=tensorboard`` and ``logger=wandb`` (``WANDB_MODE=offline``: real
W&B files, no network): samples/s over the same steady-state window, goal >= 0.97x of no
logger. The CPU ratio is the same in CPU time of this process (the loggers' threads count;
W&B's service process does not).

Image evaluations: how long computing each evaluation takes, and how long its logger then
holds the training thread up with the entry, with the real logger classes, writing in the
training thread (as before: PNG encoding, the event file, W&B's media file and row) and
through the background writer (only the snapshot and the queueing stay in the training
thread), interleaved round by round on the same logger. "Training-thread CPU" is
``time.thread_time`` of the logging call: the writer thread's work is not in it. After
each call the writer is flushed, outside the timing, so every round starts from an empty
queue, as a run does with evaluations seconds apart. "written ms" is log + flush with the
background writer: the write still happens, elsewhere.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from hydra_zen import instantiate

from benchmarks.timing import Cost, Table, header, interleave, median, parser, quiet, setup
from benchmarks.workloads import config, fit_cost, mnist_root, scratch
from dlconf.evaluation.base import Evaluation
from dlconf.evaluation.entries import LogEntry
from dlconf.loggers.background import BackgroundWriter
from dlconf.optimization.base import Optimization

LOGGERS = ("none", "tensorboard", "wandb")
EXPERIMENTS = ("mnist_vae", "mnist_vib")


WRITES = ("in thread", "background")


@dataclass(frozen=True)
class Stall:
    """Seconds the training thread spent in one ``logger.log`` call, and until written."""

    wall: float
    thread_cpu: float
    written: float


def compute_cost(evaluation: Evaluation, optimization: Optimization, repeats: int) -> float:
    """Median seconds to compute ``evaluation``'s entry."""
    times: list[float] = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        evaluation.evaluate(optimization)
        times.append(time.perf_counter() - start)
    return median(times[1:])  # the first round imports and warms up


def stall(logger: Any, writer: BackgroundWriter, entry: LogEntry, steps: Iterator[int]) -> Stall:
    """One ``logger.log`` of ``entry``, at the next of ``steps``, with ``writer`` writing."""
    step = next(steps)
    # The logger's own writer is swapped for the round, so both ways of writing go to the
    # same open run: W&B allows one run per process at a time.
    logger._writes = writer  # pyright: ignore[reportPrivateUsage]
    start, start_cpu = time.perf_counter(), time.thread_time()
    logger.log("Bench/entry", entry, step, {"global_step": step})
    wall, cpu = time.perf_counter() - start, time.thread_time() - start_cpu
    writer.flush()
    return Stall(wall, cpu, time.perf_counter() - start)


def make_logger(kind: str, save_dir: str) -> tuple[Any, Callable[[], None]]:
    if kind == "tensorboard":
        from dlconf.loggers.tensorboard import TensorBoardEntryLogger

        board = TensorBoardEntryLogger(save_dir=save_dir)
        return board, lambda: board.finalize("success")
    from dlconf.loggers.wandb import WandbEntryLogger

    wandb = WandbEntryLogger(save_dir=save_dir, project="bench", name="entries")
    return wandb, lambda: wandb.finalize("success")


def stall_rows(
    table: Table, kind: str, evaluations: dict[str, Any], optimization: Optimization, repeats: int
) -> None:
    with quiet():
        logger, close = make_logger(kind, tempfile.mkdtemp(prefix="log-", dir=scratch()))
    writers = {
        "in thread": BackgroundWriter(kind, threaded=False),
        "background": logger._writes,  # pyright: ignore[reportPrivateUsage]
    }
    try:
        for key, evaluation in evaluations.items():
            with quiet():
                compute = compute_cost(evaluation, optimization, repeats)
                entry = evaluation.evaluate(optimization)
                steps = iter(range(10**6))
                stall(logger, writers["in thread"], entry, steps)  # opens files, imports
                costs = interleave(
                    [(way, partial(stall, logger, writers[way], entry, steps)) for way in WRITES],
                    repeats,
                )
            before, after = costs["in thread"], costs["background"]
            pairs = list(zip(before, after, strict=True))
            table.add(
                key,
                kind,
                1e3 * compute,
                1e3 * median([c.wall for c in before]),
                1e3 * median([c.wall for c in after]),
                f"{median([a.wall / b.wall for b, a in pairs]):.3f}x",
                f"{median([a.thread_cpu / b.thread_cpu for b, a in pairs]):.3f}x",
                1e3 * median([c.written for c in after]),
            )
    finally:
        with quiet():
            logger._writes = writers["background"]  # pyright: ignore[reportPrivateUsage]
            close()


def main() -> None:
    options = parser(__doc__ or "")
    options.add_argument(
        "--entries-only", action="store_true", help="only the second table (about 1 minute)"
    )
    args = options.parse_args()
    setup(args)
    os.environ["WANDB_MODE"] = "offline"
    repeats = args.repeats or (1 if args.quick else 5)
    root = mnist_root(args.quick)
    data = (f"device.data_root={root}", "device.download_files=false")
    header("Logging tax: samples/s with a logger vs no logger")

    if not args.entries_only:
        table = Table(
            ["experiment", "logger", "samples/s", "vs no logger (goal >= 0.97x)", "CPU ratio"]
        )
        batch, skip, steps = 128, 10, 10 if args.quick else 300
        for name in EXPERIMENTS:
            cases: list[tuple[str, Callable[[], Cost]]] = [
                (kind, partial(fit_cost, name, [*data, f"logger={kind}"], skip, steps))
                for kind in LOGGERS
            ]
            costs = interleave(cases, repeats)
            for kind in LOGGERS:
                pairs = list(zip(costs["none"], costs[kind], strict=True))
                table.add(
                    name,
                    kind,
                    batch / median([c.wall for c in costs[kind]]),
                    f"{median([none.wall / cost.wall for none, cost in pairs]):.3f}x",
                    f"{median([none.cpu / cost.cpu for none, cost in pairs]):.3f}x",
                )
        print(table)

    cfg = config("mnist_vae", data)
    evaluations: dict[str, Any] = {
        str(key): instantiate(cfg.evaluation[key].evaluation) for key in cfg.evaluation
    }
    optimization: Optimization = instantiate(cfg.optimization)
    optimization.eval()
    stalls = Table(
        [
            "evaluation",
            "logger",
            "compute ms",
            "stall ms, in thread (before)",
            "stall ms, background (after)",
            "after / before",
            "training-thread CPU after / before",
            "written ms (after)",
        ]
    )
    for kind in LOGGERS[1:]:
        stall_rows(stalls, kind, evaluations, optimization, 4 * max(repeats, 3))
    print()
    print(stalls)
    print(
        f"\n{repeats} interleaved rounds of training, {4 * max(repeats, 3)} of entry logs; "
        "WANDB_MODE=offline."
    )


if __name__ == "__main__":
    main()
