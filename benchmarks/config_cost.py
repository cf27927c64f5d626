"""Configuration cost: compose, validate and instantiate each experiment, and sweeps of M jobs.

    python -m benchmarks.config_cost            # about 2 minutes on 2 CPU cores
    python -m benchmarks.config_cost --quick    # seconds: checks that it runs

Per experiment, in this process (after a first, discarded round that fills import caches):
composing the config with Hydra (``compose``), dlconf's checks (``validate``), and building
what ``train`` builds before fitting: the model alone, then the whole optimization (model
and the data splits, read from MNIST-format IDX files), the evaluations and the Trainer.

Sweeps: ``python -m experiments.mnist_vae -m params.beta=v1,...,vM`` for M = 1, 10, 100, in
this process, with everything but the fit: dlconf's check of every job's config before the
sweep starts (``check_command_line``), then Hydra's multirun launcher composing each job
and a task that validates it and builds its model. Linear growth means a constant time per
job; the ratio column divides each M's time per job by M=1's.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from hydra import compose, initialize
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from benchmarks.timing import Table, header, median, parser, quiet, setup
from benchmarks.workloads import mnist_root, scratch

EXPERIMENTS = ("mnist_vae", "mnist_vib")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def experiment_costs(name: str, overrides: list[str], repeats: int) -> dict[str, float]:
    """Median seconds of each phase of building ``experiments.<name>``."""
    import importlib

    from dlconf.runner.build import build
    from dlconf.runner.store import store_experiment
    from dlconf.runner.validate import validate

    module = importlib.import_module(f"experiments.{name}")
    config_name = store_experiment(module.experiment)
    phases: dict[str, list[float]] = {}
    for round_ in range(repeats + 1):
        GlobalHydra.instance().clear()
        with initialize(version_base="1.3", config_path=None):
            compose_s, cfg = timed(lambda: compose(config_name, overrides=overrides))
        validate_s, _ = timed(partial(validate, cfg))
        model_s, _ = timed(partial(build, cfg.optimization.model, "model"))
        everything_s, _ = timed(partial(_build_all, cfg))
        if round_ == 0:
            continue  # first round: imports and caches
        for phase, seconds in (
            ("compose", compose_s),
            ("validate", validate_s),
            ("model", model_s),
            ("all", everything_s),
        ):
            phases.setdefault(phase, []).append(seconds)
    return {phase: median(values) for phase, values in phases.items()}


def _build_all(cfg: DictConfig) -> None:
    from dlconf.runner.build import build

    build(cfg.optimization, "optimization")
    for name in cfg.evaluation:
        build(cfg.evaluation[name].evaluation, f"evaluation.{name}")
    with quiet():
        build(cfg.trainer, "trainer", logger=False, callbacks=[])


def sweep_seconds(m: int, data_overrides: list[str]) -> tuple[float, float]:
    """Seconds for dlconf's check of ``m`` jobs, then for Hydra's multirun of them."""
    import hydra

    import experiments.mnist_vae as vae
    from dlconf.runner.build import build
    from dlconf.runner.cli import check_command_line
    from dlconf.runner.store import store_experiment
    from dlconf.runner.validate import validate

    config_name = store_experiment(vae.experiment)
    values = ",".join(f"{0.01 * (i + 1):.2f}" for i in range(m))
    runs = tempfile.mkdtemp(prefix="sweep-", dir=scratch())
    overrides = [f"params.beta={values}", *data_overrides, f"device.experiments_root={runs}"]
    GlobalHydra.instance().clear()
    check_s, _ = timed(lambda: check_command_line(config_name, overrides, multirun=True))
    jobs = 0

    def task(cfg: DictConfig) -> None:
        nonlocal jobs
        validate(cfg)
        build(cfg.optimization.model, "model")
        jobs += 1

    argv = sys.argv
    sys.argv = ["mnist_vae", "-m", *overrides]
    GlobalHydra.instance().clear()
    try:
        with quiet():
            launch_s, _ = timed(
                hydra.main(config_path=None, config_name=config_name, version_base="1.3")(task)
            )
    finally:
        sys.argv = argv
    if jobs != m:
        raise RuntimeError(f"the multirun ran {jobs} jobs, expected {m}")
    return check_s, launch_s


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    setup(args)
    repeats = args.repeats or (1 if args.quick else 5)
    root: Path = mnist_root(args.quick)
    data = [f"device.data_root={root}", "device.download_files=false"]
    header("Configuration cost: compose, validate, instantiate")

    table = Table(
        [
            "experiment",
            "compose ms",
            "validate ms",
            "build model ms",
            "build all ms (incl. reading data)",
        ]
    )
    for name in EXPERIMENTS:
        costs = experiment_costs(name, data, repeats)
        table.add(
            name,
            1e3 * costs["compose"],
            1e3 * costs["validate"],
            1e3 * costs["model"],
            1e3 * costs["all"],
        )
    print(table)

    sizes = (1, 3) if args.quick else (1, 10, 100)
    sweep = Table(
        [
            "M jobs",
            "check s",
            "multirun s",
            "ms per job (check + multirun)",
            "per job vs M=1 (linear: 1.0x)",
        ]
    )
    sweep_seconds(1, data)  # warm-up: Hydra's launcher and plugins load on first use
    per_job_1 = 0.0
    for m in sizes:
        rounds = [sweep_seconds(m, data) for _ in range(1 if m >= 100 else repeats)]
        check_s = median([c for c, _ in rounds])
        launch_s = median([launch for _, launch in rounds])
        per_job = (check_s + launch_s) / m
        per_job_1 = per_job_1 or per_job
        sweep.add(m, check_s, launch_s, 1e3 * per_job, f"{per_job / per_job_1:.2f}x")
    print()
    print(sweep)
    print(f"\n{repeats} rounds per experiment (M=100: one).")


if __name__ == "__main__":
    main()
