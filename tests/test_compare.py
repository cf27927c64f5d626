"""Comparing runs: ``python -m dlconf.compare RUN_A RUN_B`` names what differs and how each did.

The diffing is pure functions over recorded configs, checked in-process; the command itself
is checked on real runs of the MNIST VAE (synthetic digits, a few steps), read back from
their TensorBoard events and W&B files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from omegaconf import OmegaConf

from dlconf import compare
from dlconf.runner.config_diff import ABSENT, Difference, compact, config_differences
from dlconf.runner.run_folder import RunFolder
from dlconf.runner.run_metrics import metric_goal
from dlconf.sweeps.trials import logged_history
from tests.conftest import ROOT


def _config(**changes: Any) -> dict[str, Any]:
    """A recorded config's shape (links intact), with ``changes`` at dotted keys."""
    config = OmegaConf.create(
        {
            "seed": 42,
            "run": {"project": "VAE_experiments", "name": "My_First_VAE"},
            "params": {"beta": 0.5, "encoder_layers": [1024, 128]},
            "device": {"num_workers": 0, "experiments_root": "runs"},
            "optimization": {
                "_target_": "dlconf.optimization.batch_adam.AdamBatchOptimization",
                "model": {
                    "_target_": "dlconf.models.vae.VAE",
                    "encoder": {
                        "_target_": "experiments.mnist.architectures.MNISTEncoder",
                        "layers": "${params.encoder_layers}",
                    },
                    "beta": "${params.beta}",
                },
                "num_workers": "${device.num_workers}",
            },
            "trainer": {"max_epochs": -1},
        }
    )
    for key, value in changes.items():
        OmegaConf.update(config, key.replace("__", "."), value, force_add=True)
    return cast(dict[str, Any], OmegaConf.to_container(config, resolve=False))


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.quick
def test_a_changed_hyper_parameter_shows_once_not_at_every_field_linking_to_it() -> None:
    a, b = _config(), _config(params__beta=0.1, params__encoder_layers=[512, 64])
    assert config_differences([a, b]) == [
        Difference("params", "params.beta", ("0.5", "0.1")),
        Difference("params", "params.encoder_layers", ("[1024,128]", "[512,64]")),
    ]


@pytest.mark.quick
def test_a_swapped_component_shows_its_class_names_and_none_of_its_fields() -> None:
    swapped = _config(
        optimization__model__encoder={"_target_": "my.nets.ConvEncoder", "channels": 32}
    )
    assert config_differences([_config(), swapped]) == [
        Difference(
            "components",
            "optimization.model.encoder",
            ("MNISTEncoder", "ConvEncoder"),
            swapped=True,
        )
    ]


@pytest.mark.quick
def test_a_swapped_model_is_one_swap_even_when_its_parts_differ_too() -> None:
    other = _config(
        optimization__model={
            "_target_": "dlconf.models.vib.VIB",
            "encoder": {"_target_": "my.nets.ConvEncoder"},
        }
    )
    (difference,) = config_differences([_config(), other])
    assert (difference.key, difference.values) == ("optimization.model", ("VAE", "VIB"))


@pytest.mark.quick
def test_sections_come_in_reading_order_with_the_device_apart_and_names_last() -> None:
    a = _config()
    b = _config(
        run__name="Second",
        device__experiments_root="/scratch/runs",
        trainer__max_epochs=3,
        optimization__model__encoder__layers=[64],
        params__beta=2.0,
    )
    found = [(d.section, d.key, d.values) for d in config_differences([a, b])]
    assert found == [
        ("params", "params.beta", ("0.5", "2.0")),
        ("components", "optimization.model.encoder.layers", ("${params.encoder_layers}", "[64]")),
        ("training", "trainer.max_epochs", ("-1", "3")),
        ("device", "device.experiments_root", ("runs", "/scratch/runs")),
        ("run", "run.name", ("My_First_VAE", "Second")),
    ]


@pytest.mark.quick
def test_a_key_only_one_run_has_shows_as_absent_in_the_other() -> None:
    newer = _config(params__dropout=0.1)
    (difference,) = config_differences([_config(), newer, _config()])
    assert difference.values == (ABSENT, "0.1", ABSENT)


@pytest.mark.quick
def test_identical_configs_have_no_differences() -> None:
    assert config_differences([_config(), _config(), _config()]) == []


@pytest.mark.quick
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (0.001, "0.001"),
        ([1024, 128], "[1024,128]"),
        ("30 minutes", "30 minutes"),
        ({"a": 1}, '{"a":1}'),
        ("/scratch/" + "x" * 60 + "/runs", "/scratch/" + "x" * 13 + "..." + "x" * 18 + "/runs"),
    ],
)  # fmt: skip
def test_values_print_as_one_short_word_like_an_override(value: object, text: str) -> None:
    assert compact(value) == text


@pytest.mark.quick
def test_a_metric_s_goal_comes_from_the_checkpoint_the_loss_or_its_evaluation_class() -> None:
    config: dict[str, Any] = {
        "checkpoint": {"monitor": "ELBO/Validation", "mode": "max"},
        "evaluation": {
            "ELBO": {"evaluation": {"_target_": "dlconf.evaluation.elbo.ELBOEvaluation"}},
            "Error": {
                "evaluation": {"_target_": "dlconf.evaluation.landmarks.LandmarkErrorEvaluation"}
            },
            "Gone": {"evaluation": {"_target_": "dlconf.evaluation.removed.Evaluation"}},
        },
    }
    assert metric_goal("ELBO/Validation", config) == "maximize"  # the checkpoint's mode
    assert metric_goal("ELBO/Train", config) == "maximize"  # ELBOEvaluation.higher_is_better
    assert metric_goal("Error/Test", config) == "minimize"  # an error: lower is better
    assert metric_goal("Train/loss", config) == "minimize"
    assert metric_goal("Gone/Test", config) is None  # its class cannot be imported now
    assert metric_goal("EvaluationTime/ELBO", config) is None


def _compare(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dlconf.compare", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _compare_here(capfd: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """``python -m dlconf.compare args`` in this process: exit code, stdout, stderr."""
    code = 0
    try:
        compare.main([str(arg) for arg in args])
    except SystemExit as exit:
        code = int(exit.code or 0)
    out, err = capfd.readouterr()
    return code, out, err


@pytest.mark.quick
def test_what_is_not_a_pair_of_runs_is_refused_with_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    lonely = RunFolder.create(tmp_path / "runs", "P", "N")
    lonely.save_config(OmegaConf.create(_config()), ["python", "-m", "experiments.x"])
    (tmp_path / "empty").mkdir()
    cases: list[tuple[tuple[str | Path, ...], str]] = [
        ((tmp_path / "nowhere", lonely.path), "no such folder"),
        ((tmp_path / "runs" / "P",), "nothing to compare: the arguments hold one run"),
        ((tmp_path / "empty", lonely.path), "is not a run folder and holds none"),
        ((), "nothing to compare: the arguments hold no run"),
        (("--explain",), "--explain takes one run folder"),
        (("--explain", tmp_path / "empty"), "not a run folder"),
        (("--explain", lonely.path), "no recorded command"),
    ]
    for args, says in cases:
        code, out, err = _compare_here(capfd, *args)
        assert code == 2, err
        assert err.startswith("error: ") and says in err, err
        assert err.count("\n") == 1 and out == ""


@pytest.mark.quick
def test_a_sweep_folder_stands_for_its_trials_runs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # A local sweep's layout: <root>/local_sweeps/<sweep>/<date>_<time>/trial-N/ holds each
    # trial's experiments root.
    sweep = tmp_path / "local_sweeps" / "beta_sweep"
    trials: list[RunFolder] = []
    for number, beta in enumerate((0.1, 1.0)):
        trial = RunFolder.create(sweep / "2026-12-02_03-00-00" / f"trial-{number}", "P", "N")
        trial.save_config(OmegaConf.create(_config(params__beta=beta)), ["python", "-m", "x"])
        trials.append(trial)
    for folder in (sweep, sweep.parent):
        code, out, err = _compare_here(capfd, folder)
        assert code == 0, err
        legend, config, code_block, metrics = out.split("\n\n")
        assert legend.splitlines()[1:] == [f"  A  {trials[0].path}", f"  B  {trials[1].path}"]
        assert [row.split() for row in config.splitlines()] == [
            ["config", "differences", "A", "B"],
            ["params"],
            ["params.beta", "0.1", "1.0"],
        ]
        assert code_block == "code: the same in every run (not recorded)"
        assert metrics.startswith("metrics: none logged")


STEPS = 5
TRAIN = [
    "data=synthetic",
    f"train_for={STEPS} global_steps",
    "trainer.enable_progress_bar=false",
    "eval_params.elbo.n_samples=256",
]


def _train(root: Path, *overrides: str, logger: str = "tensorboard") -> RunFolder:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    env["WANDB_MODE"] = "offline"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            *TRAIN,
            f"logger={logger}",
            f"device.experiments_root={root}",
            *overrides,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return RunFolder.all_under(root)[-1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFolder, RunFolder]:
    """Two real runs that differ in params.beta and the encoder's layers, nothing else."""
    root = tmp_path_factory.mktemp("runs")
    a = _train(root, "params.beta=0.2")
    b = _train(root, "params.beta=0.7", "params.encoder_layers=[256,64]")
    return a, b


def _rows(block: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in block.splitlines()[1:] if line.strip()}


def test_two_runs_compare_on_exactly_the_keys_they_differ_in(
    two_runs: tuple[RunFolder, RunFolder],
) -> None:
    a, b = two_runs
    result = _compare(a.path, b.path)
    assert result.returncode == 0, result.stderr
    legend, config, code, metrics = result.stdout.split("\n\n")
    assert legend.splitlines() == ["runs:", f"  A  {a.path}", f"  B  {b.path}"]
    assert config.splitlines()[0].split() == ["config", "differences", "A", "B"]
    assert config.splitlines()[1:] == [
        "params",
        "  params.encoder_layers  [1024,128]  [256,64]",
        "  params.beta            0.2         0.7",
    ]
    assert code.startswith("code: the same in every run")
    rows = _rows(metrics)
    # The final value is the last one TensorBoard holds; ELBO is maximized (the checkpoint's
    # monitor), so with two evaluations (steps 0 and 5) best is the larger.
    for run, (final, best) in (
        (a, rows["ELBO/Validation"][1:3]),
        (b, rows["ELBO/Validation"][3:5]),
    ):
        assert float(final) == pytest.approx(
            logged_history(run.tensorboard_dir, "ELBO/Validation")[-1][1], rel=1e-4
        )
        assert float(best) >= float(final)
    assert rows["ELBO/Validation"][0] == "max"
    assert rows["Train/loss"][0] == "min"
    assert "counters/global_step" not in rows and "hp_metric" not in rows


def test_a_folder_of_runs_stands_for_every_run_in_it(
    two_runs: tuple[RunFolder, RunFolder], capfd: pytest.CaptureFixture[str]
) -> None:
    a, b = two_runs
    for folder in (a.path.parent, a.path.parents[2]):  # <root>/<project>/<name>, and <root>
        code, out, err = _compare_here(capfd, folder)
        assert code == 0, err
        assert out.splitlines()[:3] == ["runs:", f"  A  {a.path}", f"  B  {b.path}"]


def test_a_w_and_b_run_reads_back_from_its_offline_files(
    two_runs: tuple[RunFolder, RunFolder], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    a, _ = two_runs
    # The same run as A (same seed, same config) but logged by W&B, offline.
    w = _train(tmp_path / "runs", "params.beta=0.2", logger="wandb")
    code, out, err = _compare_here(capfd, a.path, w.path)
    assert code == 0, err
    _, config, _, metrics = out.split("\n\n")
    assert [line.split() for line in config.splitlines()[1:]] == [
        ["components", "(swapped:", "class", "names)"],
        ["logger", "TensorBoardEntryLogger", "WandbEntryLogger"],
        ["device"],
        [
            "device.experiments_root",
            compact(str(a.path.parents[2])),
            compact(str(tmp_path / "runs")),
        ],
    ]
    elbo = _rows(metrics)["ELBO/Validation"]
    # The same training: W&B's value (float64) is TensorBoard's (float32) to float precision.
    assert float(elbo[3]) == pytest.approx(float(elbo[1]), rel=1e-3)


def test_explain_shows_where_a_recorded_run_s_values_came_from(
    two_runs: tuple[RunFolder, RunFolder],
) -> None:
    _, b = two_runs
    result = _compare("--explain", b.path)
    assert result.returncode == 0, result.stderr
    sources = {line.split()[0]: line.split(None, 2)[2] for line in result.stdout.splitlines()[2:]}
    assert sources["params.beta"] == "command line"
    assert sources["params.encoder_layers"] == "command line"
    assert sources["params.lr"] == "experiment"
    assert (
        sources["optimization.model.encoder.layers"]
        == "link to params.encoder_layers (command line)"
    )
    assert sources["data.train._target_"] == "group data=synthetic"
