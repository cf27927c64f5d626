"""The CelebA sweeps check against their experiments; the SLURM scripts refuse a missing device."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dlconf.sweeps.check import check_sweep
from dlconf.sweeps.engine import schema_violations
from sweeps.celeba_vae import sweep as vae_sweep
from sweeps.celeba_vib_landmarks import sweep as vib_sweep
from tests.conftest import ROOT

SLURM = ROOT / "sweeps" / "slurm"
SCRIPTS = {"celeba_vae.sbatch": "celeba_vae", "celeba_vib.sbatch": "celeba_vib_landmarks"}


def test_both_sweeps_check_against_their_experiments_and_w_and_b_accepts_them() -> None:
    for sweep in (vae_sweep, vib_sweep):
        check_sweep(sweep)
        assert schema_violations(sweep.to_wandb()) == []


def test_the_sweeps_vary_beta_and_the_learning_rate_toward_their_metric() -> None:
    vae, vib = vae_sweep.to_wandb(), vib_sweep.to_wandb()
    assert {"params.beta", "params.lr"} <= set(vae["parameters"])
    assert {"params.beta", "params.lr"} <= set(vib["parameters"])
    assert vae["metric"] == {"name": "ELBO/Validation", "goal": "maximize"}
    assert vib["metric"] == {"name": "LandmarkError/Validation", "goal": "minimize"}


@pytest.mark.parametrize(("script", "module"), SCRIPTS.items())
def test_slurm_scripts_run_their_experiment_with_the_arguments(script: str, module: str) -> None:
    assert subprocess.run(["bash", "-n", str(SLURM / script)], check=False).returncode == 0
    text = (SLURM / script).read_text()
    assert f'exec python -m experiments.{module} "$@"' in text
    assert "#SBATCH --signal=B:TERM@120" in text


@pytest.mark.parametrize("script", SCRIPTS)
def test_slurm_scripts_need_the_device(script: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    result = subprocess.run(
        ["bash", str(SLURM / script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DEVICE_NAME: pass the device of this cluster" in result.stderr
