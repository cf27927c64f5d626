"""Bad input stops before anything is built, with one line naming the key and the fix.

The table runs the same checks as the command line, in-process; two tests at the bottom
run the real command to pin the exit code, the single line and the absence of a run folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlconf import ConfigError
from dlconf.runner.cli import _import_devices, check_command_line
from dlconf.runner.store import store_experiment
from experiments.mnist_vae import experiment

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def config_name() -> str:
    _import_devices()
    return store_experiment(experiment)


@pytest.mark.quick
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["params.bta=0.1"], "unknown key 'params.bta' (did you mean 'params.beta'?)"),
        (["trainer.max_epoch=3"], "did you mean 'trainer.max_epochs'"),
        (["device.num_workrs=0"], "did you mean 'device.num_workers'"),
        (["params.batch_size=abc"], "params.batch_size=abc"),
        (["params.batch_size=0"], "params.batch_size must be >= 1, got 0"),
        (["params.lr=-1"], "params.lr must be > 0"),
        (["params.z_dim=0"], "params.z_dim must be >= 1"),
        (["device.num_workers=-2"], "device.num_workers must be >= 0"),
        (["data=mnits"], "unknown data 'mnits' (did you mean 'mnist'?)"),
        (["device=labtop"], "unknown device 'labtop' (did you mean 'laptop'?)"),
        (["logger=tensorbord"], "did you mean 'tensorboard'"),
        (["train_for=30 minuts"], "train_for='30 minuts' has an unknown unit 'minuts'"),
        (["train_for=forever"], "train_for='forever' is not a duration"),
        (["eval_params.elbo.every=1 minuts"], "eval_params.elbo.every='1 minuts'"),
        (["checkpoint.mode=best"], "checkpoint.mode='best' is not one of: 'max', 'min'"),
        (["params.beta=0.1,1.0"], "add -m to run one job per value"),
        (["params.beta=[0.1"], "cannot parse the override 'params.beta=[0.1'"),
        (["+params.beta=0.1"], "drop the '+'"),
        (["train_for=null"], "nothing stops training"),
        # Values that parse but are wrong: no coercion, finite quantities, countable time.
        (["seed=1.5"], "seed=1.5"),
        (["seed=abc"], "seed=abc"),
        (["params.lr=inf"], "params.lr=inf is not a finite number"),
        (["params.beta=nan"], "params.beta=nan is not a finite number"),
        (["checkpoint.every=1e30 seconds"], "is longer than a century"),
        (["train_for=1e30 global_steps"], "is more global_steps than any run takes"),
        (["checkpoint.every=5 iterations"], "unknown unit 'iterations'"),
        (["eval_params.samples.evaluate_on=validation"], "is not one of: 'train', 'valid', 'test'"),
        (["device.precision=bf17-mixed"], "device.precision='bf17-mixed' is not one of"),
        (["optimization.pin_memory=${device.num_workers}"], "links an int, not a bool"),
    ],
)
def test_bad_override_is_one_clear_error(
    config_name: str, overrides: list[str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        check_command_line(config_name, overrides, multirun=False)
    assert message in str(error.value)


@pytest.mark.quick
def test_every_job_of_a_multirun_is_checked(config_name: str) -> None:
    with pytest.raises(ConfigError, match=r"params\.batch_size must be >= 1, got 0"):
        check_command_line(config_name, ["params.batch_size=64,0"], multirun=True)


@pytest.mark.quick
def test_good_overrides_pass(config_name: str) -> None:
    check_command_line(
        config_name,
        [
            "params.beta=0.1",
            "trainer.max_epochs=20",
            "train_for=30 minutes",
            "device=laptop",
            "device.num_workers=0",
            "data=synthetic",
            "logger=none",
            "seed=1",
        ],
        multirun=False,
    )


def _run(
    args: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.mnist_vae",
            f"device.experiments_root={tmp_path}",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_command_line_mistake_exits_2_with_one_line_and_no_run_folder(tmp_path: Path) -> None:
    result = _run(["params.bta=0.1"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[0]]
    assert result.stderr.startswith("error: unknown key 'params.bta'")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_device_name_in_the_environment_exits_2(tmp_path: Path) -> None:
    result = _run([], tmp_path, env={"DEVICE_NAME": "labtop"})
    assert result.returncode == 2
    assert "DEVICE_NAME=labtop" in result.stderr
    assert "Known devices: cluster, default, laptop, workstation" in result.stderr
    assert "Traceback" not in result.stderr
