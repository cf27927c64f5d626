"""Time to first step: from process start to the end of the first optimizer step.

    python -m benchmarks.first_step            # about 4 minutes on 2 CPU cores
    python -m benchmarks.first_step --quick    # two processes, small data: checks that it runs
    python -m benchmarks.first_step --profile  # where dlconf's start goes (cProfile)
    python -m benchmarks.first_step --compare-with /tmp/base  # + dlconf as checked out there

Each case is a fresh ``python`` process started by this one; the clock starts just before
the process is created and stops when its first ``Optimizer.step`` returns (a global hook
installed by ``benchmarks.first_step_probe``). Each case runs once untimed first, so every
process reads cached bytecode and warm files, as a user's second run does. All read the
same MNIST-format IDX files through torchvision and train the same VAE:

- ``python -m experiments.mnist_vae train_for="1 global_steps"``, as a user runs it (progress
  bar, checkpoints, the evaluations it runs before the first step), with each logger;
- the floor: a bare Lightning script fitting the same model for one step with no logger
  (``benchmarks.bare_lightning``): importing torch and Lightning alone takes seconds here;
- for context, a bare PyTorch script taking one step (``benchmarks.bare_torch``);
- with ``--compare-with DIR``, the same dlconf runs from another checkout (``git archive
  COMMIT | tar -x -C DIR``), in the same interleaved rounds: a change's before and after.

Goals (issue 12): dlconf <= 1.05x the bare Lightning script with TensorBoard or no logger,
<= 1.10x with W&B (the default logger).
"""

from __future__ import annotations

import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.timing import Table, header, interleave, median, parser
from benchmarks.workloads import mnist_root, scratch

ROOT = Path(__file__).parents[1]
FLOOR = "bare Lightning script (floor)"


RUNS = "{runs}"
"""Stands for a fresh folder for the process's runs in a case's arguments."""


def seconds_to_first_step(args: list[str], env: dict[str, str], root: Path = ROOT) -> float:
    """Start ``python -m benchmarks.first_step_probe STAMP args...`` in ``root``; seconds to
    its stamp."""
    with tempfile.TemporaryDirectory(dir=scratch(), ignore_cleanup_errors=True) as tmp:
        stamp = Path(tmp) / "stamp"
        args = [arg.replace(RUNS, tmp) for arg in args]
        command = [sys.executable, "-m", "benchmarks.first_step_probe", str(stamp), *args]
        env = {**env, "PYTHONPATH": str(root)}  # that checkout's dlconf, and its probe
        started = time.time()
        result = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not stamp.exists():
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return float(stamp.read_text()) - started


def dlconf_args(data_root: Path, runs: str, logger: str) -> list[str]:
    return [
        "experiments.mnist_vae",
        "train_for=1 global_steps",
        f"logger={logger}",
        f"device.data_root={data_root}",
        "device.download_files=false",
        f"device.experiments_root={runs}",
    ]


def environment() -> dict[str, str]:
    # Python as a user runs it, caching bytecode: a sandbox's PYTHONDONTWRITEBYTECODE=1
    # would have every dlconf process compile its ~90 modules again (0.12-0.15 s on 2
    # cores), while the floor's libraries read the bytecode pip wrote when installing them.
    dropped = ("DEVICE_NAME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["WANDB_MODE"] = "offline"  # never the network, whatever credentials exist
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def profile(data_root: Path, runs: str, env: dict[str, str]) -> None:
    """Run dlconf once under cProfile and print where the time to the first step goes."""
    out = Path(runs) / "first_step.prof"
    stamp = Path(runs) / "stamp"
    command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m"]
    command += ["benchmarks.first_step_probe", str(stamp), *dlconf_args(data_root, runs, "none")]
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True)
    stats = pstats.Stats(str(out))
    stats.sort_stats("cumulative").print_stats(r"(dlconf|hydra|lightning/pytorch/trainer)", 30)


def main() -> None:
    arguments = parser(__doc__ or "")
    arguments.add_argument("--profile", action="store_true", help="profile one dlconf start")
    arguments.add_argument(
        "--compare-with", type=Path, help="also time dlconf as checked out in this folder"
    )
    args = arguments.parse_args()
    repeats = args.repeats or (1 if args.quick else 5)
    data_root = mnist_root(args.quick)
    env = environment()
    if args.profile:
        profile(data_root, tempfile.mkdtemp(prefix="profile-", dir=scratch()), env)
        return
    header("Time to first step (process start to the end of the first optimizer step)")
    cases: dict[str, list[str]] = {
        "bare PyTorch script": ["benchmarks.bare_torch", str(data_root)],
        FLOOR: ["benchmarks.bare_lightning", str(data_root), RUNS],
        "dlconf, logger=none": dlconf_args(data_root, RUNS, "none"),
        "dlconf, logger=tensorboard": dlconf_args(data_root, RUNS, "tensorboard"),
        "dlconf, logger=wandb (offline; the default)": dlconf_args(data_root, RUNS, "wandb"),
    }
    if args.quick:  # two processes instead of five: enough to check that it runs
        cases = {name: cases[name] for name in ("bare PyTorch script", "dlconf, logger=none")}
    runners: list[tuple[str, Callable[[], float]]] = [
        (name, partial(seconds_to_first_step, command, env)) for name, command in cases.items()
    ]
    if args.compare_with is not None:
        other = args.compare_with.resolve()
        for logger in ("none", "wandb"):
            name = f"dlconf at {other.name}, logger={logger}"
            command = dlconf_args(data_root, RUNS, logger)
            runners.append((name, partial(seconds_to_first_step, command, env, other)))
    for _, run in [] if args.quick else runners:  # untimed: bytecode written, files cached
        run()
    seconds = interleave(runners, repeats)
    table = Table(
        [
            "process",
            "seconds",
            "range",
            "vs bare Lightning (goals 1.05x, W&B 1.10x)",
            "vs bare PyTorch",
        ]
    )
    floor = seconds.get(FLOOR)
    for name, values in seconds.items():
        to_torch = [v / t for v, t in zip(values, seconds["bare PyTorch script"], strict=True)]
        to_floor = "-"
        if floor is not None:
            to_floor = f"{median([v / f for v, f in zip(values, floor, strict=True)]):.2f}x"
        spread = f"{min(values):.2f}-{max(values):.2f}"
        table.add(name, median(values), spread, to_floor, f"{median(to_torch):.2f}x")
    print(table)
    print(f"\n{repeats} interleaved rounds; torch's default threads in every process.")


if __name__ == "__main__":
    main()
