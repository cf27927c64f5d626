"""The README's from-scratch experiment: it trains, learns, and reloads from elsewhere.

Its data set and model are defined in the experiment module itself, which runs as
``__main__``; the run must still record importable targets
(``experiments.from_scratch.MoonsClassifier``), so another process can rebuild it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dlconf import load_run
from tests.conftest import RunExperiment, run_folders

NOISE = (
    "GPU available",
    "TPU available",
    "Tip: For seamless cloud logging",
    "Total params",  # the model summary
    "LeafSpec",
    "weights_only",
    "smaller than the logging interval",
)
"""Lines Lightning prints that a dlconf user cannot act on."""


def test_the_from_scratch_experiment_learns_and_reloads_in_another_process(
    run_experiment: RunExperiment, tmp_path: Path
) -> None:
    result = run_experiment("from_scratch", "logger=tensorboard")
    assert result.returncode == 0, result.stderr[-2000:]
    printed = result.stdout + result.stderr
    for noise in NOISE:
        assert noise not in printed
    (folder,) = run_folders(tmp_path / "runs")

    config = (folder / "config.yaml").read_text()
    assert "_target_: experiments.from_scratch.MoonsClassifier" in config
    assert "__main__" not in config

    events = EventAccumulator(str(folder / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    accuracy = [event.value for event in events.Scalars("Accuracy/Validation")]
    assert accuracy[0] < 0.8 < 0.9 < accuracy[-1]  # two moons are separable, not linearly
    # The run ends by saying its result (the checkpoint's monitor) and where it is.
    ending = re.search(
        rf"^Accuracy/Validation = ([0-9.]+) at step 300; run folder: {re.escape(str(folder))}$",
        printed,
        re.MULTILINE,
    )
    assert ending is not None, printed[-1000:]
    assert float(ending[1]) == pytest.approx(accuracy[-1], abs=1e-5)

    # This test's process is not the one that trained: the targets must import here.
    optimization = load_run(folder, "optimization")
    assert type(optimization.model).__name__ == "MoonsClassifier"
    assert optimization.counters["iteration"] == 300
