"""``python -m dlconf.compare RUN_A RUN_B [...]``: what differs between runs, and how they did.

Each argument is a run folder, or a folder holding runs (a ``<project>/<name>`` folder, an
experiments root, a local sweep's folder with its trials): it stands for every run in it.
Printed: the config keys that differ, grouped (:mod:`dlconf.runner.config_diff`), the code
commits when they differ, and each logged metric's final and best value side by side
(:mod:`dlconf.runner.run_metrics`).

``python -m dlconf.compare --explain RUN`` shows where each value of a recorded run came
from, by running the recorded command again with ``--explain``
(:mod:`dlconf.runner.provenance`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from omegaconf import OmegaConf

from dlconf.devices import DEVICE_ENV_VAR
from dlconf.errors import ConfigError, DlconfError, exit_with
from dlconf.runner.config_diff import SECTIONS, Difference, config_differences, table
from dlconf.runner.provenance import SWEEP_ENV_VAR
from dlconf.runner.run_folder import RunFolder
from dlconf.runner.run_metrics import Goal, metric_goal, metric_summaries

USAGE = "python -m dlconf.compare RUN_A RUN_B [...] | python -m dlconf.compare --explain RUN"
SEARCH_DEPTH = 3
"""How many folder levels below an argument runs are looked for (a sweep's trials)."""


def main(argv: Sequence[str]) -> None:
    try:
        if argv[:1] == ["--explain"]:
            if len(argv) != 2:
                raise ConfigError(f"--explain takes one run folder: {USAGE}")
            sys.exit(explain_recorded(RunFolder.open(Path(argv[1]), given_as="--explain")))
        runs = [run for arg in argv for run in runs_given(Path(arg))]
        if len(runs) < 2:
            found = "no run" if not runs else f"one run ({runs[0].path})"
            raise ConfigError(f"nothing to compare: the arguments hold {found}; usage: {USAGE}")
        sys.stdout.write(comparison(runs))
    except DlconfError as error:
        exit_with(error)


def runs_given(path: Path) -> list[RunFolder]:
    """The run ``path`` is, or every run under it; a ConfigError when it holds none."""
    if not path.is_dir():
        raise ConfigError(f"{path}: no such folder; give run folders, or a folder of runs")
    try:
        return [RunFolder.open(path)]
    except ConfigError:
        pass
    runs = _runs_below(path, SEARCH_DEPTH)
    if not runs:
        raise ConfigError(
            f"{path} is not a run folder and holds none: give "
            "<experiments_root>/<project>/<name>/<date>_<time>, or a folder of runs"
        )
    return runs


def _runs_below(path: Path, depth: int) -> list[RunFolder]:
    runs = RunFolder.runs_in(path) or RunFolder.all_under(path)
    if runs or depth == 0:
        return runs
    return [
        run
        for child in sorted(path.iterdir())
        if child.is_dir()
        for run in _runs_below(child, depth - 1)
    ]


def comparison(runs: Sequence[RunFolder]) -> str:
    """The whole comparison of ``runs`` as text: legend, config, commits, metrics."""
    labels = [_label(i) for i in range(len(runs))]
    lines = ["runs:", *(f"  {label}  {run.path}" for label, run in zip(labels, runs, strict=True))]
    configs = [run.read_config() for run in runs]
    plain = [cast(dict[str, Any], OmegaConf.to_container(cfg, resolve=False)) for cfg in configs]
    lines += ["", *_config_block(config_differences(plain), labels)]
    lines += ["", *_commit_block(runs, labels)]
    lines += ["", *_metric_block(runs, plain, labels)]
    return "\n".join(lines) + "\n"


def _config_block(differences: Sequence[Difference], labels: Sequence[str]) -> list[str]:
    if not differences:
        return ["config: the same in every run"]
    rows: list[list[str]] = []
    for section in SECTIONS:
        inside = [d for d in differences if d.section == section]
        if inside:
            swapped = any(d.swapped for d in inside)
            rows.append([f"{section}{' (swapped: class names)' if swapped else ''}"])
            rows += [[f"  {d.key}", *d.values] for d in inside]
    return table(["config differences", *labels], rows)


def _commit_block(runs: Sequence[RunFolder], labels: Sequence[str]) -> list[str]:
    commits = [_commit(run) for run in runs]
    if len(set(commits)) == 1:
        return [f"code: the same in every run ({commits[0]})"]
    return table(["code", *labels], [["  commit", *commits]])


def _commit(run: RunFolder) -> str:
    history = run.history()
    git = history[0].get("git") if history else None
    if not isinstance(git, dict) or not git.get("commit"):  # pyright: ignore[reportUnknownMemberType]
        return "not recorded"
    state = cast(dict[str, Any], git)
    return f"{str(state['commit'])[:10]}{' (dirty)' if state.get('dirty') else ''}"


def _metric_block(
    runs: Sequence[RunFolder], configs: Sequence[dict[str, Any]], labels: Sequence[str]
) -> list[str]:
    summaries = [metric_summaries(run) for run in runs]
    names = sorted({name for summary in summaries for name in summary})
    if not names:
        return ["metrics: none logged (TensorBoard events or W&B files) in these runs"]
    goals: dict[str, Goal | None] = {name: _goal(name, configs) for name in names}
    rows: list[list[str]] = []
    for name in sorted(names, key=lambda n: goals[n] is None):  # results first, then the rest
        goal = goals[name]
        row = [f"  {name}", {"maximize": "max", "minimize": "min", None: "?"}[goal]]
        for summary in summaries:
            found = summary.get(name)
            if found is None:
                row += ["-", "-"]
                continue
            best = found.best(goal)
            shown = (
                _number(best)
                if best is not None
                else f"{_number(found.minimum)}..{_number(found.maximum)}"
            )
            row += [_number(found.final), shown]
        rows.append(row)
    header = [
        "metrics",
        "goal",
        *(f"{label} {what}" for label in labels for what in ("final", "best")),
    ]
    lines = table(header, rows)
    if any(row[1] == "?" for row in rows):
        lines.append("  (goal ?: not known, so best shows the range min..max)")
    return lines


def _goal(name: str, configs: Sequence[dict[str, Any]]) -> Goal | None:
    """The goal the first run that knows one says (runs of one experiment agree)."""
    for config in configs:
        goal = metric_goal(name, config)
        if goal is not None:
            return goal
    return None


def explain_recorded(run: RunFolder) -> int:
    """Run ``run``'s recorded command with ``--explain``, where and as it ran; its exit code."""
    history = run.history()
    if not history or not isinstance(history[0].get("command"), list):
        raise ConfigError(f"{run.record_file}: no recorded command, so nothing to explain from")
    first = history[0]
    command: list[str] = [str(part) for part in first["command"]]
    if command[:2] != ["python", "-m"] or len(command) < 3:
        raise ConfigError(
            f"{run.path} was started as {' '.join(command)}: --explain needs python -m MODULE"
        )
    env = {k: v for k, v in os.environ.items() if k not in (DEVICE_ENV_VAR, SWEEP_ENV_VAR)}
    if first.get("device_name"):  # the device the run had, not this shell's
        env[DEVICE_ENV_VAR] = str(first["device_name"])
    if first.get("sweep"):
        env[SWEEP_ENV_VAR] = str(first["sweep"])
    cwd = Path(str(first.get("cwd") or "."))
    if not cwd.is_dir():
        raise ConfigError(f"{run.path} ran in {cwd}, which is gone: the command needs its code")
    sys.stdout.write(f"# the recorded command of {run.path}, explained by the code as it is now\n")
    sys.stdout.flush()  # before the command's own output, which goes straight to stdout
    return subprocess.run(
        [sys.executable, "-m", command[2], "--explain", *command[3:]], cwd=cwd, env=env, check=False
    ).returncode


def _label(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"R{index + 1}"


def _number(value: float) -> str:
    return f"{value:.5g}"


if __name__ == "__main__":
    main(sys.argv[1:])
