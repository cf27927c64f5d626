"""Time to an answer that trains nothing: ``--help`` and a misspelt key, against ``import torch``.

    python -m benchmarks.answer_time            # about 3 minutes on 2 CPU cores
    python -m benchmarks.answer_time --quick    # one round: checks that it runs

Each case is a fresh ``python`` process started from here, timed from start to exit, the
cases interleaved round after round. The baseline is ``python -c "import torch"``: what an
answer would cost if it had to import the components it describes.

Each answer is timed twice: *cold*, with an empty answer cache (a fresh
``XDG_CACHE_HOME``: the first time these sources answer, the full path imports torch and
Lightning, answers, and remembers), and *warm*, from the answer an earlier run remembered
(:mod:`dlconf.runner.answer_cache`). What a valid command line pays for the cache (loading it
and reading the key tree, before it goes the full way) is timed inside the process, with
the module's bytecode cached as Python usually keeps it, and compiled on every run. A last
table splits the cold ``--help``'s imports by top-level package (``python -X importtime``,
each module's own time counted once).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from benchmarks.timing import Table, header, interleave, median, parser, ratio

ROOT = Path(__file__).parents[1]
EXPERIMENT = [sys.executable, "-m", "experiments.mnist_vae"]
HELP = [*EXPERIMENT, "--help"]
MISSPELT = [*EXPERIMENT, "params.bta=0.1"]
BASELINE = 'python -c "import torch" (baseline)'
CASES: dict[str, tuple[list[str], int, bool]] = {
    BASELINE: ([sys.executable, "-c", "import torch"], 0, False),
    'python -c "import lightning.pytorch"': (
        [sys.executable, "-c", "import lightning.pytorch"],
        0,
        False,
    ),
    "mnist_vae --help, cold (first answer)": (HELP, 0, False),
    "mnist_vae --help, warm (cached)": (HELP, 0, True),
    "mnist_vae params.bta=0.1 (misspelt key), cold": (MISSPELT, 2, False),
    "mnist_vae params.bta=0.1 (misspelt key), warm": (MISSPELT, 2, True),
}
"""Each case's command, the exit code it must end with, and whether the cache is warm."""
DESCRIPTION = "time to --help and to a misspelt-key error, against import torch"
_IMPORT_TIME = re.compile(r"import time:\s+(\d+) \|\s+\d+ \| *([\w.]+)")
VALID_CHECK = """
import sys, time
sys.argv = ["-m", "params.beta=0.1"]
sys.orig_argv = [sys.executable, "-m", "experiments.mnist_vae", *sys.argv[1:]]
start = time.perf_counter()
import experiments
print(time.perf_counter() - start)
"""
"""What ``python -m experiments.mnist_vae params.beta=0.1`` spends before it goes the full way."""


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    env["XDG_CACHE_HOME"] = str(cache)
    return env


def run_once(command: list[str], code: int, cache: Path | None = None) -> float:
    """Seconds from starting ``command`` to its exit; it must exit with ``code``.

    Its answers are cached under ``cache``, an empty folder of its own when None (cold).
    """
    with tempfile.TemporaryDirectory() as empty:
        env = _env(cache or Path(empty))
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, env=env, check=False)
        seconds = time.perf_counter() - start
    if result.returncode != code:
        raise RuntimeError(f"{command} exited {result.returncode}: {result.stderr.decode()}")
    return seconds


def valid_check_seconds(cache: Path, pycache: Path, compiled: bool) -> float:
    """Seconds a valid command line spends in the cache's check, with ``cache`` warm.

    With ``compiled``, Python compiles the cache's module on every run (as under
    ``PYTHONDONTWRITEBYTECODE=1`` with no ``__pycache__``); else it reads the bytecode that
    the first run left in ``pycache``.
    """
    env = _env(cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache / ("none" if compiled else "kept"))
    if compiled:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", VALID_CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(result.stdout)


def import_breakdown(command: list[str]) -> dict[str, float]:
    """Seconds of import per top-level package while ``command`` runs (cache cold)."""
    with tempfile.TemporaryDirectory() as empty:
        result = subprocess.run(
            [command[0], "-X", "importtime", *command[1:]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=_env(Path(empty)),
            check=False,
        )
    seconds: dict[str, float] = {}
    for line in result.stderr.splitlines():
        match = _IMPORT_TIME.match(line)
        if match:
            package = match.group(2).split(".")[0]
            seconds[package] = seconds.get(package, 0.0) + int(match.group(1)) / 1e6
    return seconds


def main() -> None:
    args = parser(DESCRIPTION).parse_args()
    repeats = args.repeats or (1 if args.quick else 5)
    header(f"Time to an answer, {repeats} interleaved rounds")
    with tempfile.TemporaryDirectory() as warm_folder, tempfile.TemporaryDirectory() as pycache:
        warm = Path(warm_folder)
        run_once(HELP, 0, warm)  # what an earlier run left: the answers are remembered
        run_once(MISSPELT, 2, warm)
        cases = [
            (name, partial(run_once, command, code, warm if is_warm else None))
            for name, (command, code, is_warm) in CASES.items()
        ]
        for label, compiled in (("bytecode cached", False), ("compiled each run", True)):
            check = partial(valid_check_seconds, warm, Path(pycache), compiled)
            cases.append((f"valid override: its check, {label}", check))
        times = interleave(cases, repeats)
    baseline = median(times[BASELINE])
    table = Table(["command", "median s", "vs import torch"])
    for name, measured in times.items():
        table.add(name, median(measured), ratio(median(measured), baseline))
    print(table, "\n", flush=True)

    breakdown = import_breakdown(HELP)
    total = sum(breakdown.values())
    shares = Table(["package", "import s", "share of a cold --help's imports"])
    for package, seconds in sorted(breakdown.items(), key=lambda item: -item[1])[:8]:
        shares.add(package, seconds, f"{seconds / total:.0%}")
    shares.add("(all)", total, "100%")
    print(shares, flush=True)


if __name__ == "__main__":
    main()
