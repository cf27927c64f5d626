"""A run started by a sweep agent takes only plain values of the sweep's parameters.

The table calls the guard as `python -m experiments.<name>` does; the last tests run the
real command with WANDB_SWEEP_ID set to pin the exit code, the single line and that
nothing was created.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlconf import ConfigError
from dlconf.runner.agent_guard import check_agent_command_line, started_by_agent
from tests.conftest import ROOT

AGENT = {"WANDB_SWEEP_ID": "abc123"}


@pytest.mark.parametrize(
    "argv",
    [
        ["params.beta=0.0095", "params.batch_size=128", "train_for=10 epochs"],
        ["params.decoder_layers=[64, 128]", "eval_params.elbo.n_samples=64", "seed=3"],
        ["params.beta=1.8170748897666137e-06"],
        [],
    ],
)
def test_plain_values_of_hyper_parameters_pass(argv: list[str]) -> None:
    check_agent_command_line(argv, AGENT)


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        (
            "params.beta=${oc.env:WANDB_API_KEY}",
            "a sweep value must be plain, not an interpolation or resolver (it could copy a "
            "secret such as WANDB_API_KEY into the run's config)",
        ),
        ("params.decoder_layers=[${params.z_dim}]", "not an interpolation or resolver"),
        ("params._target_=os.system", "_target_ chooses what code runs"),
        ("optimization._partial_=true", "_partial_ chooses what code runs"),
        ("optimization.model._convert_=all", "_convert_ chooses what code runs"),
        ("optimization._recursive_=false", "_recursive_ chooses what code runs"),
        ("hydra.run.dir=/tmp/elsewhere", "Hydra's own settings are not a sweep parameter"),
        ("hydra/launcher=submitit_local", "Hydra's own settings are not a sweep parameter"),
        ("+params.extra=1", "an agent sets existing keys only, without '+', '++' or '~'"),
        ("++params.beta=1", "without '+', '++' or '~'"),
        ("~params.beta", "without '+', '++' or '~'"),
        ("device=laptop", "the device belongs to the machine (DEVICE_NAME), not to the sweep"),
        ("device.data_root=/home/me", "the device belongs to the machine (DEVICE_NAME)"),
        (
            "trainer.max_epochs=1",
            "an agent may set only params.*, eval_params.*, train_for and seed",
        ),
        ("logger=tensorboard", "an agent may set only params.*"),
        ("resume=last", "an agent may set only params.*"),
        ("params.beta@pkg=1", "an agent may set only params.*"),
        ("--cfg", "an agent passes key=value overrides only, no flags"),
        ("-m", "no flags"),
        ("--experimental-rerun=/tmp/config.pickle", "no flags"),
        ("params.beta", "not a key=value override"),
    ],
)
def test_anything_else_is_refused_with_one_line(arg: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        check_agent_command_line(["params.beta=0.1", arg], AGENT)
    (line,) = str(error.value).splitlines()
    assert line.startswith(f"sweep agent run (WANDB_SWEEP_ID is set): refused {arg!r}: ")
    assert message in line


def test_every_refused_argument_gets_its_line() -> None:
    with pytest.raises(ConfigError) as error:
        check_agent_command_line(["device=laptop", "params.beta=0.1", "+x=1"], AGENT)
    assert [line.split(": ")[1] for line in str(error.value).splitlines()] == [
        "refused 'device=laptop'",
        "refused '+x=1'",
    ]


def test_the_keys_must_be_this_runs_sweep_parameters_when_the_agent_wrote_them(
    tmp_path: Path,
) -> None:
    # What `wandb agent` writes to WANDB_SWEEP_PARAM_PATH before starting a run.
    params = tmp_path / "config-run1.yaml"
    params.write_text(
        "wandb_version: 1\n\nparams.beta:\n  value: 0.1\ntrain_for:\n  value: 1 epoch\n"
    )
    environ = {**AGENT, "WANDB_SWEEP_PARAM_PATH": str(params)}
    check_agent_command_line(["params.beta=0.1", "train_for=1 epoch"], environ)
    with pytest.raises(
        ConfigError,
        match=r"refused 'params.lr=1': not a parameter of this sweep "
        r"\(it has: params.beta, train_for\)",
    ):
        check_agent_command_line(["params.beta=0.1", "params.lr=1"], environ)


def test_only_an_agent_is_guarded() -> None:
    check_agent_command_line(["device=laptop", "hydra.run.dir=x", "--cfg", "job"], {})
    assert not started_by_agent({})
    assert started_by_agent({"WANDB_SWEEP_ID": "abc123"})
    assert started_by_agent({"DLCONF_SWEEP_AGENT": "1"})


def _run_as_agent(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    env.update(AGENT, WANDB_MODE="offline", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "experiments.mnist_vae", *overrides],
        cwd=tmp_path,  # the default device would put runs under ./runs
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_agent_run_that_asks_for_a_secret_stops_before_anything_exists(tmp_path: Path) -> None:
    result = _run_as_agent(tmp_path, "params.beta=${oc.env:WANDB_API_KEY}")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: sweep agent run (WANDB_SWEEP_ID is set): refused "
        "'params.beta=${oc.env:WANDB_API_KEY}': a sweep value must be plain, not an "
        "interpolation or resolver (it could copy a secret such as WANDB_API_KEY into the "
        "run's config)"
    ]
    assert list(tmp_path.iterdir()) == []
