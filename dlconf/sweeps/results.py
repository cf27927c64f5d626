"""A local sweep's results: the ranked table, every trial as CSV and JSON, and a picture.

Written to the sweep folder whenever a trial ends, so an interrupted sweep shows what it
has: ``results.txt`` (best first), ``trials.csv`` and ``trials.json`` (one row or object
per trial: number, status, metric, values, steps, seconds, run folder) and ``sweep.png``,
the metric against each swept parameter (one point per trial with a metric) and the
metric over training for every trial. The plotted numbers come from :func:`plot_data`,
a plain function, so what the picture shows can be checked without looking at it.
"""

from __future__ import annotations

# matplotlib types its methods' **kwargs as untyped, which strict pyright reports at
# every call; the calls themselves are checked.
# pyright: reportUnknownMemberType=false
import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlconf.runner.run_folder import write_atomic
from dlconf.sweeps.state import SweepState, TrialState

RESULTS_FILE = "results.txt"
CSV_FILE = "trials.csv"
JSON_FILE = "trials.json"
PICTURE_FILE = "sweep.png"


def ranked(state: SweepState) -> list[TrialState]:
    """The trials best first by the metric; those without one (failed, running) last."""
    maximize = state.config["metric"].get("goal", "minimize") == "maximize"
    scored = [t for t in state.trials if t.succeeded]
    scored.sort(key=lambda t: (t.metric or 0.0) * (-1 if maximize else 1))
    return [*scored, *(t for t in state.trials if not t.succeeded)]


def swept_keys(state: SweepState) -> list[str]:
    """The parameters that vary (constants such as ``train_for`` are left out)."""
    parameters: dict[str, dict[str, Any]] = state.config["parameters"]
    return [key for key, spec in parameters.items() if "value" not in spec]


def results_table(state: SweepState) -> str:
    """The trials as a text table, best first."""
    keys = swept_keys(state)
    header = ["rank", "trial", state.metric_name, *keys, "status", "steps", "seconds"]
    rows = [
        [
            str(rank) if trial.succeeded else "-",
            str(trial.number),
            _format(trial.metric) if trial.succeeded else _why(trial),
            *(_format(trial.values.get(key)) for key in keys),
            trial.status,
            str(_steps(trial)),
            f"{trial.seconds:.0f}",
        ]
        for rank, trial in enumerate(ranked(state), start=1)
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def trial_rows(state: SweepState) -> list[dict[str, Any]]:
    """One flat row per trial, best first: what ``trials.csv`` and ``trials.json`` hold."""
    keys = swept_keys(state)
    return [
        {
            "rank": rank if trial.succeeded else None,
            "trial": trial.number,
            "status": trial.status,
            state.metric_name: trial.metric,
            **{key: trial.values.get(key) for key in keys},
            "steps": _steps(trial),
            "evaluations": len(trial.history),
            "seconds": round(trial.seconds, 1),
            "starts": trial.starts,
            "exit_code": trial.exit_code,
            "run_dir": trial.run_dir,
        }
        for rank, trial in enumerate(ranked(state), start=1)
    ]


@dataclass(frozen=True)
class PlotData:
    """What ``sweep.png`` draws: points per swept parameter, one curve per trial."""

    metric: str
    by_parameter: dict[str, list[tuple[Any, float]]]
    """For each swept key, ``(value, metric)`` of every trial with a metric."""
    curves: dict[int, list[tuple[float, float]]]
    """For each trial with a history, ``(step, metric)`` at its evaluations."""


def plot_data(state: SweepState) -> PlotData:
    scored = [t for t in state.trials if t.succeeded and t.metric is not None]
    return PlotData(
        metric=state.metric_name,
        by_parameter={
            key: [(t.values.get(key), float(t.metric or 0.0)) for t in scored]
            for key in swept_keys(state)
        },
        curves={t.number: [(s, v) for s, v in t.history] for t in state.trials if t.history},
    )


def write_results(state: SweepState, folder: Path) -> None:
    """Write the table, the CSV, the JSON and the picture into ``folder``."""
    write_atomic(folder / RESULTS_FILE, results_table(state) + "\n")
    rows = trial_rows(state)
    write_atomic(folder / JSON_FILE, json.dumps(rows, indent=1) + "\n")
    text = io.StringIO()
    fields = list(rows[0]) if rows else ["trial"]
    writer = csv.DictWriter(text, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(folder / CSV_FILE, text.getvalue())
    draw(plot_data(state), folder / PICTURE_FILE)


def draw(data: PlotData, path: Path) -> None:
    """``data`` as a PNG: one panel per swept parameter, then the curves over training."""
    # Imported here, and drawn without pyplot (no display, no global figures): most sweep
    # commands draw nothing.
    from matplotlib.figure import Figure

    panels = len(data.by_parameter) + 1
    figure = Figure(figsize=(4.5 * panels, 3.8), dpi=80)
    axes = [figure.add_subplot(1, panels, i + 1) for i in range(panels)]
    for axis, (key, points) in zip(axes, data.by_parameter.items(), strict=False):
        values = [value for value, _ in points]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        xs: Sequence[Any] = values if numeric else [str(v) for v in values]
        axis.scatter(xs, [metric for _, metric in points])
        if numeric and values and min(values) > 0 and max(values) / min(values) > 100:
            axis.set_xscale("log")
        axis.set_xlabel(key)
        axis.set_ylabel(data.metric)
    curves = axes[-1]
    for number, curve in sorted(data.curves.items()):
        curves.plot([s for s, _ in curve], [v for _, v in curve], marker=".", label=f"{number}")
    curves.set_xlabel("global step")
    curves.set_ylabel(data.metric)
    if data.curves:
        curves.legend(title="trial", fontsize="small")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")  # a canvas-less Figure saves through Agg
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def _steps(trial: TrialState) -> int:
    return int(trial.history[-1][0]) if trial.history else 0


def _why(trial: TrialState) -> str:
    if trial.status == "running":
        return "running"
    return f"failed (exit {trial.exit_code})" if trial.exit_code else "no metric"


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
