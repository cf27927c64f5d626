"""SLURM: the agent script's guard rails, and multirun through Hydra's submitit launcher.

No SLURM here: the sbatch script is run by bash to check what it refuses, and the
submitit launchers are checked the way every command line is, by dlconf's own check.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dlconf.runner.cli import _import_devices, check_command_line
from dlconf.runner.store import store_experiment
from experiments.mnist_vae import experiment
from tests.conftest import ROOT

SLURM = ROOT / "sweeps" / "slurm"


@pytest.fixture(scope="module")
def config_name() -> str:
    _import_devices()
    return store_experiment(experiment)


@pytest.mark.parametrize("script", ["agent.sbatch", "local_sweep.sbatch", "multirun_example.sh"])
def test_scripts_are_valid_bash(script: str) -> None:
    result = subprocess.run(["bash", "-n", str(SLURM / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SWEEP", "SWEEP: pass the sweep: sbatch --export=ALL,DEVICE_NAME=...,SWEEP="),
        ("DEVICE_NAME", "DEVICE_NAME: pass the device of this cluster"),
    ],
)
def test_the_agent_script_needs_the_sweep_and_the_device(
    missing: str, message: str, tmp_path: Path
) -> None:
    env = {**os.environ, "SWEEP": "me/VAE_experiments/abc123", "DEVICE_NAME": "cluster"}
    del env[missing]
    result = subprocess.run(
        ["bash", str(SLURM / "agent.sbatch")], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SWEEP_MODULE", "SWEEP_MODULE: pass the sweep: sbatch --export=ALL,DEVICE_NAME="),
        ("SWEEP_DIR", "SWEEP_DIR: pass the shared sweep folder"),
        ("DEVICE_NAME", "DEVICE_NAME: pass the device of this cluster"),
    ],
)
def test_the_local_sweep_script_needs_the_sweep_its_folder_and_the_device(
    missing: str, message: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SWEEP_MODULE": "sweeps.mnist_vae",
        "SWEEP_DIR": str(tmp_path / "sweep"),
        "DEVICE_NAME": "cluster",
    }
    del env[missing]
    result = subprocess.run(
        ["bash", str(SLURM / "local_sweep.sbatch")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "sweep").exists()


def test_each_local_sweep_task_takes_one_trial_of_the_shared_folder() -> None:
    text = (SLURM / "local_sweep.sbatch").read_text()
    assert 'TRIALS="${TRIALS:-${SLURM_ARRAY_TASK_COUNT:-1}}"' in text
    assert (
        'exec python -m "${SWEEP_MODULE}" --local "${TRIALS}" --folder "${SWEEP_DIR}" '
        '--one-trial "$@"' in text
    )


def test_the_agent_script_sets_a_time_limit_and_a_run_count() -> None:
    text = (SLURM / "agent.sbatch").read_text()
    assert "#SBATCH --time=02:00:00" in text
    assert 'exec wandb agent --count "${COUNT}" --forward-signals "${SWEEP}"' in text


def test_the_submitit_launcher_is_installed() -> None:
    from hydra.core.plugins import Plugins
    from hydra.plugins.launcher import Launcher

    launchers = {cls.__name__ for cls in Plugins.instance().discover(Launcher)}
    assert {"LocalLauncher", "SlurmLauncher"} <= launchers


@pytest.mark.parametrize(
    "launcher",
    [
        ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=30"],
        [
            "hydra/launcher=submitit_slurm",
            "hydra.launcher.timeout_min=120",
            "hydra.launcher.gpus_per_node=1",
            "hydra.launcher.cpus_per_task=8",
            "hydra.launcher.mem_gb=32",
            "hydra.launcher.array_parallelism=4",
        ],
    ],
)
def test_a_submitit_multirun_passes_the_command_line_check(
    config_name: str, launcher: list[str]
) -> None:
    # The overrides of multirun_example.sh: 3 x 2 jobs, each composed and validated.
    overrides = [*launcher, "params.beta=0.01,0.1,1.0", "params.batch_size=64,128"]
    check_command_line(config_name, overrides, multirun=True)
