"""Runs of one multirun or sweep are told apart by their folder and W&B names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlconf.runner.run_folder import RunFolder
from dlconf.runner.run_label import (
    LABEL_MAX,
    SWEEP_TRIAL_ENV_VAR,
    SWEPT_KEYS_ENV_VAR,
    hand_down_swept_keys,
    run_label,
)
from tests.conftest import ROOT, run_folders
from tests.wandb_files import offline_environment, offline_runs, read_run

SHARED = ["data=synthetic", "train_for=3 global_steps"]


@pytest.mark.quick
@pytest.mark.parametrize(
    ("overrides", "job", "environ", "label"),
    [
        (["params.beta=0.1", *SHARED], None, {}, ""),  # a plain run: no label
        (
            ["params.beta=0.1", *SHARED],
            2,
            {SWEPT_KEYS_ENV_VAR: "params.beta"},
            "job2_beta=0.1",
        ),
        (  # a swept group and a list value; the shared overrides stay out
            ["data=synthetic", "model.encoder.layers=[256,128]", "seed=3"],
            0,
            {SWEPT_KEYS_ENV_VAR: "data,model.encoder.layers"},
            "job0_data=synthetic_layers=256,128",
        ),
        (  # two keys with the same last part keep their whole key
            ["params.n_samples=4", "eval_params.n_samples=8"],
            1,
            {SWEPT_KEYS_ENV_VAR: "params.n_samples,eval_params.n_samples"},
            "job1_params.n_samples=4_eval_params.n_samples=8",
        ),
        (  # every value an agent passes comes from the sweep
            ["params.beta=0.0095", "params.batch_size=64"],
            None,
            {"WANDB_SWEEP_ID": "abc123"},
            "beta=0.0095_batch_size=64",
        ),
        (["params.beta=0.0095", *SHARED], None, {SWEEP_TRIAL_ENV_VAR: "3"}, "trial3"),
        (["params.tag='a b/c'"], None, {"DLCONF_SWEEP_AGENT": "1"}, "tag=a-b-c"),
    ],
)
def test_the_label_names_what_differs(
    overrides: list[str], job: int | None, environ: dict[str, str], label: str
) -> None:
    assert run_label(overrides, job_number=job, environ=environ) == label


@pytest.mark.quick
def test_a_long_label_is_cut_and_keeps_a_hash_of_the_rest() -> None:
    values = [f"params.p{i}={i * 1000.5}" for i in range(12)]
    environ = {"WANDB_SWEEP_ID": "x"}
    label = run_label(values, environ=environ)
    assert len(label) == LABEL_MAX
    assert label.startswith("p0=0.0_p1=1000.5")
    other = run_label([*values[:-1], "params.p11=0"], environ=environ)
    assert other != label  # the hash keeps cut labels apart


@pytest.mark.quick
def test_the_launcher_hands_the_swept_keys_down() -> None:
    environ: dict[str, str] = {}
    overrides = ["params.beta=0.01,0.1", "seed=1", "data=mnist,synthetic", "+x=1"]
    hand_down_swept_keys(overrides, environ)
    assert environ[SWEPT_KEYS_ENV_VAR] == "params.beta,data"


@pytest.mark.quick
def test_the_folder_keeps_its_label_and_is_found_as_a_run(tmp_path: Path) -> None:
    first = RunFolder.create(tmp_path, "P", "N", "job0_beta=0.1")
    second = RunFolder.create(tmp_path, "P", "N", "job1_beta=1.0")
    plain = RunFolder.create(tmp_path, "P", "N")
    assert first.path.name.endswith("_job0_beta=0.1")
    assert [first.label, second.label, plain.label] == ["job0_beta=0.1", "job1_beta=1.0", ""]
    assert first.display_name("N") == "N_job0_beta=0.1"
    assert plain.display_name("N") == "N"
    for folder in (first, second, plain):
        (folder.path / "config.yaml").write_text("{}")
    assert {r.path for r in RunFolder.runs_of(tmp_path, "P", "N")} == {
        first.path,
        second.path,
        plain.path,
    }


def test_an_agent_run_names_its_folder_and_wandb_run_by_its_values(
    tmp_path: Path, mnist_root: Path
) -> None:
    env = offline_environment(tmp_path, DLCONF_SWEEP_AGENT="1", DEVICE_NAME="test-agent")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.labelled_agent_run",
            str(tmp_path / "runs"),
            str(mnist_root),
            "params.beta=0.05",
            "params.batch_size=32",
            "train_for=3 global_steps",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = run_folders(tmp_path / "runs")
    label = "beta=0.05_batch_size=32_train_for=3-global_steps"
    assert folder.name.endswith(f"_{label}")
    (wandb_run,) = offline_runs(folder)
    assert read_run(wandb_run).name == f"My_First_VAE_{label}"
