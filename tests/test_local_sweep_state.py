"""A local sweep's bookkeeping, without training: the state file, claims, hyperband, results.

The state file is the real one under its real lock, the engine is W&B's, and the picture is
drawn by matplotlib; only the trials are written by hand instead of trained.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from dlconf import VALID, ConfigError
from dlconf.sweeps import Hyperband, LogUniform, Sweep, Values, main, vary
from dlconf.sweeps.devices import visible_devices
from dlconf.sweeps.early_stop import Running, stop_now, to_stop
from dlconf.sweeps.engine import schema_violations
from dlconf.sweeps.local import (
    LocalRunner,
    _Child,
    machine_overrides,
    open_sweep,
    orphan,
    propose,
)
from dlconf.sweeps.results import PICTURE_FILE, plot_data, ranked, write_results
from dlconf.sweeps.state import Owner, StateFile, SweepState, TrialState
from experiments.mnist_vae import elbo, experiment

p = experiment.param_links
LRS = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7, 3e-8]
GRID = Sweep(
    experiment=experiment,
    method="grid",
    metric=elbo.on(VALID),
    parameters=[vary(p.lr).over(Values(LRS))],
    name="state_grid",
)


def _new_state(folder: Path, count: int, sweep: Sweep = GRID) -> SweepState:
    return open_sweep(folder, sweep.to_wandb(), sweep.to_yaml(), "experiments.mnist_vae", count, [])


def _claim_until_done(folder: str) -> int:
    """Claim trials one lock at a time until the sweep has none left; how many it got."""
    claimed = 0
    while True:
        with StateFile(Path(folder)).update() as state:
            trial = propose(state)
            if trial is None:
                return claimed
            trial.owner = Owner.here()
        claimed += 1


def test_processes_claiming_at_once_neither_lose_nor_repeat_a_trial(tmp_path: Path) -> None:
    _new_state(tmp_path, count=len(LRS))
    with multiprocessing.get_context("fork").Pool(4) as pool:
        claimed = pool.map(_claim_until_done, [str(tmp_path)] * 4)
    state = StateFile(tmp_path).read()
    assert sum(claimed) == len(LRS)
    assert [t.number for t in state.trials] == list(range(1, len(LRS) + 1))
    assert sorted(t.values["params.lr"] for t in state.trials) == sorted(LRS)  # each once
    assert len({t.owner.pid for t in state.trials if t.owner}) > 1  # really shared out
    # Every write replaced the file whole: it parses, and no temporary file is left.
    json.loads((tmp_path / "sweep-state.json").read_text())
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_sweep_stops_at_its_count_and_at_its_run_cap(tmp_path: Path) -> None:
    state = _new_state(tmp_path / "count", count=3)
    assert [propose(state) is not None for _ in range(4)] == [True, True, True, False]
    capped = Sweep(
        experiment=experiment,
        method="grid",
        metric=elbo.on(VALID),
        parameters=[vary(p.lr).over(Values(LRS))],
        run_cap=2,
    )
    state = _new_state(tmp_path / "cap", count=10, sweep=capped)
    assert [propose(state) is not None for _ in range(3)] == [True, True, False]


def test_a_trial_whose_sweep_process_died_is_taken_over(tmp_path: Path) -> None:
    state = _new_state(tmp_path, count=3)
    dead = subprocess.Popen(["true"])
    dead.wait()
    for _ in range(3):
        assert propose(state) is not None
    mine, lost, released = state.trials
    mine.owner = Owner.here()
    lost.owner = Owner.here()
    lost.owner.pid, lost.owner.started = dead.pid, None
    released.owner = None  # its process stopped on Ctrl-C and gave it back
    assert orphan(state) is lost
    lost.owner = Owner.here()
    assert orphan(state) is released
    released.status = "finished"
    assert orphan(state) is None  # a live owner keeps its trial


@pytest.mark.quick
def test_a_sweep_is_not_started_in_a_folder_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"holds other files \(notes.txt\) and no local sweep"):
        _new_state(tmp_path, count=2)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]  # nothing of the sweep


@pytest.mark.quick
def test_a_continued_sweep_must_be_the_same_sweep(tmp_path: Path) -> None:
    open_sweep(tmp_path, GRID.to_wandb(), "", "experiments.mnist_vae", 4, ["data=synthetic"])
    state = open_sweep(tmp_path, GRID.to_wandb(), "", "experiments.mnist_vae", 6, [])
    assert (state.count, state.overrides) == (6, ["data=synthetic"])
    other = {**GRID.to_wandb(), "method": "random"}
    with pytest.raises(ConfigError, match=r"another definition \(method differ\)"):
        open_sweep(tmp_path, other, "", "experiments.mnist_vae", None, [])
    with pytest.raises(ConfigError, match="runs its trials with data=synthetic"):
        open_sweep(tmp_path, GRID.to_wandb(), "", "experiments.mnist_vae", None, ["data=mnist"])


@pytest.mark.quick
def test_a_trial_command_holds_one_train_for_and_its_own_experiments_root(tmp_path: Path) -> None:
    overrides = ["data=synthetic", "train_for=20 global_steps", "device.experiments_root=/x"]
    state = SweepState({"parameters": {"train_for": {"value": "20 global_steps"}}}, 1, overrides)
    assert machine_overrides(state) == ["data=synthetic"]
    state.config["parameters"] = {}
    assert machine_overrides(state) == ["data=synthetic", "train_for=20 global_steps"]


def _hyperband_config(**early: object) -> dict[str, object]:
    return {
        "method": "grid",
        "metric": {"name": "ELBO/Validation", "goal": "maximize"},
        "early_terminate": {"type": "hyperband", **early},
        "parameters": {"params.lr": {"values": [1e-3, 1e-7]}},
    }


def test_hyperband_stops_a_running_trial_behind_at_a_band() -> None:
    config = _hyperband_config(min_iter=2, eta=3)
    good = Running(1, running=False, history=[-550.0, -266.0, -190.0])
    behind = Running(2, running=True, history=[-550.0, -549.0])
    assert to_stop(config, "ELBO/Validation", [good, behind]) == [2]
    before_band = Running(2, running=True, history=[-550.0])
    assert to_stop(config, "ELBO/Validation", [good, before_band]) == []
    level = Running(2, running=True, history=[-550.0, -250.0])
    assert to_stop(config, "ELBO/Validation", [good, level]) == []
    without = {key: value for key, value in config.items() if key != "early_terminate"}
    assert to_stop(without, "ELBO/Validation", [good, behind]) == []


def test_a_trial_asks_the_state_file_whether_to_stop(tmp_path: Path) -> None:
    hyperband = Sweep(
        experiment=experiment,
        method="grid",
        metric=elbo.on(VALID),
        parameters=[vary(p.lr).over(Values([1e-3, 1e-7]))],
        early_terminate=Hyperband(min_iter=2),
    )
    _new_state(tmp_path / "hyperband", count=2, sweep=hyperband)
    with StateFile(tmp_path / "hyperband").update() as state:
        first = propose(state)
        assert first is not None
        first.status, first.history = "finished", [[0, -550.0], [10, -266.0], [20, -190.0]]
    path = tmp_path / "hyperband" / "sweep-state.json"
    assert stop_now(path, 2, [-550.0, -549.0])
    assert not stop_now(path, 2, [-550.0])  # not at the band yet
    assert not stop_now(path, 2, [-550.0, -260.0])
    _new_state(tmp_path / "plain", count=2)
    assert not stop_now(tmp_path / "plain" / "sweep-state.json", 2, [-550.0, -549.0])
    assert not stop_now(tmp_path / "gone.json", 2, [-550.0, -549.0])


@pytest.mark.quick
def test_hyperband_is_checked_like_the_rest_of_the_sweep() -> None:
    assert Hyperband(min_iter=2).to_wandb() == {
        "type": "hyperband",
        "min_iter": 2,
        "eta": 3,
        "strict": True,
    }
    assert Hyperband(max_iter=27, s=2, eta=3).to_wandb()["max_iter"] == 27
    with pytest.raises(ConfigError, match="needs min_iter"):
        Hyperband()
    with pytest.raises(ConfigError, match="not both"):
        Hyperband(min_iter=2, max_iter=27, s=2)
    with pytest.raises(ConfigError, match=r"eta=1\) takes a number > 1"):
        Hyperband(min_iter=2, eta=1)
    with pytest.raises(ConfigError, match=r"min_iter=0\) takes a whole number"):
        Hyperband(min_iter=0)
    with pytest.raises(ConfigError, match="early_terminate='hyperband'"):
        Sweep(
            experiment=experiment,
            method="grid",
            metric=elbo.on(VALID),
            parameters=[],
            early_terminate="hyperband",  # type: ignore[arg-type]
        )
    with pytest.raises(ConfigError, match=r"run_cap=0\) takes a whole number"):
        Sweep(experiment=experiment, method="grid", metric=elbo.on(VALID), parameters=[], run_cap=0)


def test_results_rank_the_trials_and_the_picture_has_a_point_per_finished_trial(
    tmp_path: Path,
) -> None:
    state = SweepState(GRID.to_wandb(), 4, [])
    histories = {1: [-550.0, -200.0], 2: [-550.0, -150.0], 3: [-550.0, -540.0]}
    for number, history in histories.items():
        trial = TrialState(number, {"params.lr": LRS[number]}, status="finished")
        trial.history = [[10.0 * i, v] for i, v in enumerate(history)]
        state.trials.append(trial)
    state.trials[2].status = "stopped"
    state.trials.append(TrialState(4, {"params.lr": LRS[4]}, status="failed", exit_code=1))

    assert [t.number for t in ranked(state)] == [2, 1, 3, 4]  # ELBO is maximized
    data = plot_data(state)
    assert data.by_parameter == {
        "params.lr": [(LRS[1], -200.0), (LRS[2], -150.0), (LRS[3], -540.0)]
    }
    assert {n: len(c) for n, c in data.curves.items()} == {1: 2, 2: 2, 3: 2}

    write_results(state, tmp_path)
    with Image.open(tmp_path / PICTURE_FILE) as picture:
        picture.verify()
        assert picture.format == "PNG"
    table = (tmp_path / "results.txt").read_text().splitlines()
    assert table[0].split() == [
        "rank",
        "trial",
        "ELBO/Validation",
        "params.lr",
        "status",
        "steps",
        "seconds",
    ]
    assert [line.split()[:2] for line in table[1:]] == [
        ["1", "2"],
        ["2", "1"],
        ["3", "3"],
        ["-", "4"],
    ]
    assert "failed (exit 1)" in table[4]
    rows = json.loads((tmp_path / "trials.json").read_text())
    assert [(r["trial"], r["status"], r["ELBO/Validation"]) for r in rows] == [
        (2, "finished", -150.0),
        (1, "finished", -200.0),
        (3, "stopped", -540.0),
        (4, "failed", None),
    ]
    csv_lines = (tmp_path / "trials.csv").read_text().splitlines()
    assert csv_lines[0].startswith("rank,trial,status,ELBO/Validation,params.lr,steps")
    assert len(csv_lines) == 5


@pytest.mark.quick
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--local", "2", "--jobs", "0"], "error: --jobs 0: run at least 1 trial at a time\n"),
        (["--local", "0"], "error: --local 0: run at least 1 trial\n"),
        (
            ["--jobs", "2"],
            "error: --jobs, --one-trial, --folder and --engine-seed apply to --local",
        ),
        (
            ["--one-trial"],
            "error: --jobs, --one-trial, --folder and --engine-seed apply to --local",
        ),
        (["--yaml", "--resume", "last"], "error: --yaml prints the sweep config; it does not go"),
    ],
)
def test_local_sweep_options_are_checked_first(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(GRID, argv)
    assert ended.value.code == 2
    assert capsys.readouterr().err.startswith(message)
    assert not list(tmp_path.iterdir())


@pytest.mark.quick
def test_resuming_a_folder_that_holds_no_sweep_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(GRID, ["--resume", str(tmp_path / "nothing")])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'nothing'} is not a local sweep folder")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "nothing").exists()


def test_trials_side_by_side_get_a_gpu_each(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    visible_devices.cache_clear()
    try:
        assert visible_devices() == ("3", "5")
        runner = LocalRunner(tmp_path, jobs=2)
        assert runner._free_device() == "3"
        idle = subprocess.Popen(["true"])
        idle.wait()
        with (tmp_path / "log").open("w") as log:
            runner._children[1] = _Child(1, idle, log, 0.0, 0.0, tmp_path, "3")
            assert runner._free_device() == "5"  # not the one trial 1 has
            runner._children[2] = _Child(2, idle, log, 0.0, 0.0, tmp_path, "5")
            del runner._children[1]
            assert runner._free_device() == "3"  # trial 1's, now free again
        assert LocalRunner(tmp_path, jobs=1)._free_device() is None  # it sees both
    finally:
        visible_devices.cache_clear()


@pytest.mark.quick
def test_a_restarted_slurm_task_takes_back_its_own_stale_claim(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "0")
    before = Owner.here()
    assert not before.is_gone()
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")  # the same task, requeued
    assert before.is_gone()
    before.host, before.heartbeat = "another-node", 0.0
    monkeypatch.setenv("SLURM_JOB_ID", "4243")
    assert before.is_gone()  # another node's claim, not renewed for ten minutes
    before.heartbeat = time.time()
    assert not before.is_gone()


@pytest.mark.parametrize(
    "early", [Hyperband(min_iter=2), Hyperband(max_iter=27, s=2, eta=3, strict=False)]
)
def test_w_and_b_accepts_both_forms_of_hyperband(early: Hyperband) -> None:
    sweep = Sweep(
        experiment=experiment,
        method="bayes",
        metric=elbo.on(VALID),
        parameters=[vary(p.lr).over(Values([1e-3, 1e-4]))],
        early_terminate=early,
        run_cap=8,
    )
    config = sweep.to_wandb()
    assert config["early_terminate"]["type"] == "hyperband"
    assert config["run_cap"] == 8
    assert schema_violations(config) == []


def test_a_continued_random_sweep_proposes_what_an_uninterrupted_one_would(
    tmp_path: Path,
) -> None:
    random_lr = Sweep(
        experiment=experiment,
        method="random",
        metric=elbo.on(VALID),
        parameters=[vary(p.lr).over(LogUniform(min=-12, max=-2))],
    )

    def open_(name: str, seed: int | None = 7) -> SweepState:
        return open_sweep(tmp_path / name, random_lr.to_wandb(), "", "m", 4, [], seed)

    straight = open_("straight")
    for _ in range(4):
        propose(straight)
    open_("interrupted")
    for _ in range(2):  # two proposals, the state written, the process gone...
        with StateFile(tmp_path / "interrupted").update() as state:
            propose(state)
    continued = StateFile(tmp_path / "interrupted").read()
    for _ in range(2):  # ...and a new process continues
        propose(continued)
    lrs = [t.values["params.lr"] for t in straight.trials]
    assert [t.values["params.lr"] for t in continued.trials] == lrs
    assert len(set(lrs)) == 4
    other = open_("other", seed=8)
    propose(other)
    assert other.trials[0].values["params.lr"] != lrs[0]
    with pytest.raises(ConfigError, match="runs with --engine-seed 7"):
        open_("straight", seed=8)
