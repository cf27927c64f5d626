"""Local sweeps that survive a kill, run trials side by side, and stop trials early.

Each sweep is ``python -m tests.local_sweeps <grid|hyperband> ...`` (grids over the MNIST
VAE's learning rate) on synthetic digits, trials of a few dozen steps: the real sweep
process, the real trial processes, W&B's engine, TensorBoard's events and checkpoints.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from dlconf.callbacks.checkpoints import read_checkpoint
from dlconf.runner.run_folder import RunFolder
from dlconf.sweeps.results import plot_data
from dlconf.sweeps.state import StateFile
from tests.conftest import ROOT

STEPS = 60


def _overrides(steps: int = STEPS, every: int = 20) -> list[str]:
    """Every trial's: synthetic digits, ``steps`` steps, the ELBO every ``every`` steps."""
    return [
        "data=synthetic",
        "data.train.size=2000",  # not MNIST's 60,000: rendering them is most of a short trial
        "data.valid.size=200",
        "data.test.size=50",
        f"train_for={steps} global_steps",
        "checkpoint.every=5 global_steps",
        f"eval_params.elbo.every={every} global_steps",
        "eval_params.elbo.n_samples=64",
        "eval_params.samples.every=1000 global_steps",
        "eval_params.samples.n_samples=4",
        "eval_params.reconstruction.every=1000 global_steps",
        "eval_params.reconstruction.n_samples=4",
        "trainer.enable_progress_bar=false",
    ]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}


def _sweep(name: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.local_sweeps", name, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        check=False,
    )


def _state(folder: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((folder / "sweep-state.json").read_text())
    return state


def _trials(folder: Path) -> list[dict[str, Any]]:
    trials: list[dict[str, Any]] = _state(folder)["trials"]
    return trials


def _ranking(folder: Path) -> list[tuple[int, float]]:
    """(trial, learning rate) best first, as results.txt lists them."""
    rows = json.loads((folder / "trials.json").read_text())
    return [(row["trial"], row["params.lr"]) for row in rows]


def _run(folder: Path, number: int) -> RunFolder:
    (run,) = RunFolder.all_under(folder / f"trial-{number}")
    return run


def _final_step(run: RunFolder) -> int:
    return int(read_checkpoint(run.last_checkpoint, weights_only=False)["global_step"])


def _wait_for_checkpoint_of_trial(folder: Path, number: int, timeout: float) -> None:
    """Until trial ``number`` has saved a checkpoint mid-run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = RunFolder.all_under(folder / f"trial-{number}")
        if runs and runs[0].checkpoint_files():
            return
        time.sleep(0.05)
    raise AssertionError(f"trial {number} saved no checkpoint within {timeout} s")


def test_a_sweep_killed_in_its_third_trial_continues_where_it_stopped(tmp_path: Path) -> None:
    folder = tmp_path / "interrupted"
    command = [
        sys.executable,
        "-m",
        "tests.local_sweeps",
        "grid",
        "--local",
        "4",
        "--folder",
        str(folder),
        *_overrides(),
    ]
    sweep = subprocess.Popen(
        command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_checkpoint_of_trial(folder, 3, timeout=600)
        sweep.send_signal(signal.SIGKILL)  # no chance to tidy anything up
    finally:
        sweep.wait()
    killed = {t["number"]: t for t in _trials(folder)}
    assert [killed[n]["status"] for n in (1, 2, 3)] == ["finished", "finished", "running"]
    first_two = {n: _run(folder, n).record_file.read_text() for n in (1, 2)}

    result = _sweep("grid", "--resume", str(folder))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    trials = {t["number"]: t for t in _trials(folder)}
    assert sorted(trials) == [1, 2, 3, 4]
    assert all(t["status"] == "finished" for t in trials.values())
    # The first two were kept as they were: not run again.
    assert [trials[n]["starts"] for n in (1, 2, 3, 4)] == [1, 1, 2, 1]
    assert {n: _run(folder, n).record_file.read_text() for n in (1, 2)} == first_two
    # The third continued its own run from its checkpoint, to the end of its budget.
    third = _run(folder, 3)
    record = json.loads(third.record_file.read_text())
    assert [entry["resumed"] for entry in record] == [False, True]
    assert f"resume={third.path}" in " ".join(record[1]["args"])
    assert _final_step(third) == STEPS
    steps = [step for step, _ in trials[3]["history"]]
    assert steps == [0, 20, 40, 60]  # one evaluation each, none lost, none twice
    assert "--- start 2 of trial 3 ---" in (folder / "trial-3.log").read_text()

    # The same sweep, never interrupted and two trials at a time, ranks the same.
    reference = tmp_path / "reference"
    result = _sweep(
        "grid", "--local", "4", "--jobs", "2", "--folder", str(reference), *_overrides()
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert _ranking(folder) == _ranking(reference)
    assert [lr for _, lr in _ranking(folder)] == [3e-3, 1e-3, 3e-4, 1e-4]  # a real ranking

    # Two trials at a time: each overlaps another, and the state lost none and repeated none.
    spans = [t["spans"][0] for t in _trials(reference)]
    assert len(spans) == 4
    overlapping = [
        i
        for i, (start, end) in enumerate(spans)
        if any(j != i and s < end and start < e for j, (s, e) in enumerate(spans))
    ]
    assert len(overlapping) >= 2
    assert sorted(t["values"]["params.lr"] for t in _trials(reference)) == [1e-4, 3e-4, 1e-3, 3e-3]
    assert [t["number"] for t in _trials(reference)] == [1, 2, 3, 4]

    # What the sweep recorded is what its trials ran: one train_for, in both.
    config = yaml.safe_load((folder / "sweep.yaml").read_text())
    assert config["parameters"]["train_for"] == {"value": f"{STEPS} global_steps"}
    first = trials[1]["command"]
    assert [arg for arg in first if arg.startswith("train_for=")] == [
        f"train_for={STEPS} global_steps"
    ]
    assert sum(arg.startswith("device.experiments_root=") for arg in first) == 1

    # The results: a table, a CSV, a JSON and a picture with one point per finished trial.
    with Image.open(folder / "sweep.png") as picture:
        picture.verify()
    drawn = plot_data(StateFile(folder).read())
    assert sorted(lr for lr, _ in drawn.by_parameter["params.lr"]) == [1e-4, 3e-4, 1e-3, 3e-3]
    assert {n: [s for s, _ in curve] for n, curve in drawn.curves.items()} == {
        n: [0, 20, 40, 60] for n in (1, 2, 3, 4)
    }
    assert len((folder / "trials.csv").read_text().splitlines()) == 5


def test_hyperband_stops_a_trial_that_falls_behind_at_its_first_band(tmp_path: Path) -> None:
    folder = tmp_path / "hyperband"
    overrides = _overrides(steps=60, every=10)  # the first band: the 2nd evaluation, step 10
    result = _sweep("hyperband", "--local", "2", "--folder", str(folder), *overrides)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "trial 2/2: ELBO/Validation=" in result.stdout
    assert "params.lr=1e-07 (stopped early)" in result.stdout
    good, slow = _trials(folder)
    assert (good["values"]["params.lr"], good["status"]) == (3e-3, "finished")
    assert (slow["values"]["params.lr"], slow["status"], slow["exit_code"]) == (1e-7, "stopped", 0)
    assert slow["stop_reason"] == (
        "step 10: early termination after 2 evaluations of ELBO/Validation"
    )
    # It stopped at the band, the normal way: its last checkpoint is of that step.
    assert _final_step(_run(folder, 2)) == 10
    assert _final_step(_run(folder, 1)) == 60
    assert [step for step, _ in slow["history"]] == [0, 10]
    assert slow["history"][1][1] < good["history"][1][1] - 50  # clearly behind at the band
    rows = json.loads((folder / "trials.json").read_text())
    assert [(row["trial"], row["status"]) for row in rows] == [(1, "finished"), (2, "stopped")]


def test_array_tasks_on_one_folder_share_the_trials_out(tmp_path: Path) -> None:
    # What SLURM array tasks of sweeps/slurm/local_sweep.sbatch run, here two at once.
    folder = tmp_path / "shared"
    command = [
        sys.executable,
        "-m",
        "tests.local_sweeps",
        "grid",
        "--local",
        "2",
        "--folder",
        str(folder),
        "--one-trial",
        *_overrides(steps=20, every=10),
    ]
    tasks = [
        subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [task.communicate(timeout=900)[0] for task in tasks]
    assert [task.returncode for task in tasks] == [0, 0], outputs
    trials = _trials(folder)
    assert [(t["number"], t["status"], t["starts"]) for t in trials] == [
        (1, "finished", 1),
        (2, "finished", 1),
    ]
    assert sorted(t["values"]["params.lr"] for t in trials) == [1e-3, 3e-3]
    # Each task ran one trial: each printed one line of its own.
    assert sorted(
        len(re.findall(r"^trial \d/2: ", out, flags=re.MULTILINE)) for out in outputs
    ) == [
        1,
        1,
    ]


def test_a_sweep_stopped_by_sigterm_hands_its_trial_back_saved(tmp_path: Path) -> None:
    folder = tmp_path / "preempted"
    command = [
        sys.executable,
        "-m",
        "tests.local_sweeps",
        "grid",
        "--local",
        "1",
        "--folder",
        str(folder),
        *_overrides(),
    ]
    sweep = subprocess.Popen(
        command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_checkpoint_of_trial(folder, 1, timeout=600)
        sweep.send_signal(signal.SIGTERM)  # SLURM's warning before the time limit
        _, stderr = sweep.communicate(timeout=300)
    finally:
        sweep.kill()
    assert sweep.returncode == 130
    assert f"continue with python -m tests.local_sweeps --resume {folder}" in stderr
    (trial,) = _trials(folder)
    assert (trial["status"], trial["owner"], trial["exit_code"]) == ("running", None, 143)
    saved_at = _final_step(_run(folder, 1))
    assert 0 < saved_at < STEPS

    result = _sweep("grid", "--resume", str(folder))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (trial,) = _trials(folder)
    assert (trial["status"], trial["starts"]) == ("finished", 2)
    assert _final_step(_run(folder, 1)) == STEPS
