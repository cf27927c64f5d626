"""Logging tax: training samples/s with TensorBoard and with W&B (offline) against no logger.

    python -m benchmarks.logging_tax            # about 4 minutes on 2 CPU cores
    python -m benchmarks.logging_tax --quick    # seconds: checks that it runs

Training: ``experiments.mnist_vae`` and ``experiments.mnist_vib`` in this process at their
default rhythm (losses every 50 steps, evaluations every minute and at start and end), with
``logger=none``, ``logger=tensorboard`` and ``logger=wandb`` (``WANDB_MODE=offline``: real
W&B files, no network): samples/s over the same steady-state window, goal >= 0.97x of no
logger. The CPU ratio is the same in CPU time of this process (the loggers' threads count;
W&B's service process does not).

Image evaluations: how long computing each evaluation takes, and how long its logger then
holds training up writing the entry (PNG encoding, the event file, W&B's media files), with
the real logger classes. Training stalls for compute + write; the goal reads "no longer than
the evaluation takes to compute" as: writing adds at most the compute time (<= 2x).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from hydra_zen import instantiate

from benchmarks.timing import Cost, Table, header, interleave, median, parser, quiet, setup
from benchmarks.workloads import config, fit_cost, mnist_root, scratch
from dlconf.evaluation.base import Evaluation
from dlconf.loggers.base import EntryLogger
from dlconf.optimization.base import Optimization

LOGGERS = ("none", "tensorboard", "wandb")
EXPERIMENTS = ("mnist_vae", "mnist_vib")


def entry_costs(
    evaluation: Evaluation, optimization: Optimization, logger: EntryLogger, repeats: int
) -> tuple[float, float]:
    """Median seconds to compute ``evaluation`` and to write its entry with ``logger``."""
    compute: list[float] = []
    write: list[float] = []
    for step in range(repeats + 1):
        start = time.perf_counter()
        entry = evaluation.evaluate(optimization)
        middle = time.perf_counter()
        logger.log("Bench/entry", entry, step, {"global_step": step})
        end = time.perf_counter()
        if step:  # the first round opens files and imports encoders
            compute.append(middle - start)
            write.append(end - middle)
    return median(compute), median(write)


def make_logger(kind: str, save_dir: str) -> tuple[EntryLogger, Callable[[], None]]:
    if kind == "tensorboard":
        from dlconf.loggers.tensorboard import TensorBoardEntryLogger

        board = TensorBoardEntryLogger(save_dir=save_dir)
        return board, lambda: board.finalize("success")
    from dlconf.loggers.wandb import WandbEntryLogger

    wandb = WandbEntryLogger(save_dir=save_dir, project="bench", name="entries")
    return wandb, lambda: wandb.finalize("success")


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    setup(args)
    os.environ["WANDB_MODE"] = "offline"
    repeats = args.repeats or (1 if args.quick else 5)
    root = mnist_root(args.quick)
    data = (f"device.data_root={root}", "device.download_files=false")
    header("Logging tax: samples/s with a logger vs no logger")

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
        ["evaluation", "logger", "compute ms", "write ms", "stall / compute (goal <= 2x)"]
    )
    for kind in LOGGERS[1:]:
        with quiet():
            logger, close = make_logger(kind, tempfile.mkdtemp(prefix="log-", dir=scratch()))
        try:
            for key, evaluation in evaluations.items():
                with quiet():
                    compute, write = entry_costs(evaluation, optimization, logger, repeats)
                stalls.add(
                    key, kind, 1e3 * compute, 1e3 * write, f"{(compute + write) / compute:.2f}x"
                )
        finally:
            with quiet():
                close()
    print()
    print(stalls)
    print(f"\n{repeats} interleaved rounds; WANDB_MODE=offline.")


if __name__ == "__main__":
    main()
