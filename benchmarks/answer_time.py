"""Time to an answer that trains nothing: ``--help`` and a misspelt key, against ``import torch``.

    python -m benchmarks.answer_time            # about 2 minutes on 2 CPU cores
    python -m benchmarks.answer_time --quick    # one round: checks that it runs

Each case is a fresh ``python`` process started from here, timed from start to exit, the
cases interleaved round after round. The baseline is ``python -c "import torch"``: an
experiment module builds its configs from its components' classes (``conf(VAE)`` reads
``VAE``'s signature), so it cannot answer before torch is imported. A second table splits
``--help``'s imports by top-level package (``python -X importtime``, each module's own time
counted once), which says where the rest goes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from benchmarks.timing import Table, header, interleave, median, parser, ratio

ROOT = Path(__file__).parents[1]
EXPERIMENT = [sys.executable, "-m", "experiments.mnist_vae"]
CASES: dict[str, tuple[list[str], int]] = {
    'python -c "import torch" (baseline)': ([sys.executable, "-c", "import torch"], 0),
    'python -c "import lightning.pytorch"': ([sys.executable, "-c", "import lightning.pytorch"], 0),
    "mnist_vae --help": ([*EXPERIMENT, "--help"], 0),
    "mnist_vae params.bta=0.1 (misspelt key)": ([*EXPERIMENT, "params.bta=0.1"], 2),
}
"""Each case's command and the exit code it must end with."""
BASELINE = next(iter(CASES))
DESCRIPTION = "time to --help and to a misspelt-key error, against import torch"
_IMPORT_TIME = re.compile(r"import time:\s+(\d+) \|\s+\d+ \| *([\w.]+)")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}


def run_once(command: list[str], code: int) -> float:
    """Seconds from starting ``command`` to its exit; it must exit with ``code``."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, env=_env(), check=False)
    seconds = time.perf_counter() - start
    if result.returncode != code:
        raise RuntimeError(f"{command} exited {result.returncode}: {result.stderr.decode()}")
    return seconds


def import_breakdown(command: list[str]) -> dict[str, float]:
    """Seconds of import per top-level package while ``command`` runs."""
    result = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(),
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
    times = interleave(
        [(name, partial(run_once, command, code)) for name, (command, code) in CASES.items()],
        repeats,
    )
    baseline = median(times[BASELINE])
    table = Table(["command", "median s", "vs import torch"])
    for name, measured in times.items():
        table.add(name, median(measured), ratio(median(measured), baseline))
    print(table, "\n", flush=True)

    breakdown = import_breakdown(CASES["mnist_vae --help"][0])
    total = sum(breakdown.values())
    shares = Table(["package", "import s", "share of --help's imports"])
    for package, seconds in sorted(breakdown.items(), key=lambda item: -item[1])[:8]:
        shares.add(package, seconds, f"{seconds / total:.0%}")
    shares.add("(all)", total, "100%")
    print(shares, flush=True)


if __name__ == "__main__":
    main()
