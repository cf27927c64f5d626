"""``--explain``: for each key of the composed config, its value and where it came from.

The attribution rules are checked in-process on small configs; the flag itself on the MNIST
VAE's real command line, as a user types it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf

from dlconf.runner.provenance import SWEEP_ENV_VAR, Origin, attribute, in_sweep
from dlconf.runner.record import record_entry
from tests.conftest import ROOT

CHOICES = {"data": "synthetic", "device": "laptop", "logger": "tensorboard"}


def _config(beta: float = 0.5, workers: int = 0) -> DictConfig:
    return OmegaConf.create(
        {
            "params": {"beta": beta, "lr": 0.001},
            "data": {"train": {"_target_": "my.Digits", "split": "train"}},
            "device": {"num_workers": workers},
            "optimization": {
                "model": {"beta": "${params.beta}"},
                "data": "${data}",
                "num_workers": "${device.num_workers}",
                "started": "${now:%Y}",
            },
        }
    )


def _sources(origins: list[Origin]) -> dict[str, str]:
    return {origin.key: origin.source for origin in origins}


@pytest.mark.quick
def test_each_key_is_attributed_to_where_it_was_set() -> None:
    origins = attribute(_config(), _config(beta=0.1, workers=4), ["params.beta"], CHOICES)
    assert _sources(origins) == {
        "params.beta": "command line",
        "params.lr": "experiment",
        "data.train._target_": "group data=synthetic",
        "data.train.split": "group data=synthetic",
        # Changed, though no override names it here: the override set a section above it.
        "device.num_workers": "command line",
        "optimization.model.beta": "link to params.beta (command line)",
        "optimization.data": "link to data (group data=synthetic)",
        "optimization.num_workers": "link to device.num_workers (command line)",
        "optimization.started": "experiment",  # a resolver, not a link
    }


@pytest.mark.quick
def test_values_are_shown_resolved_except_a_link_to_a_whole_section() -> None:
    values = {o.key: o.value for o in attribute(_config(), _config(beta=0.1), [], CHOICES)}
    assert values["optimization.model.beta"] == "0.1"
    assert values["optimization.num_workers"] == "0"
    assert values["optimization.data"] == "${data}"


@pytest.mark.quick
def test_an_override_naming_a_key_counts_even_when_it_gives_the_default_value() -> None:
    sources = _sources(attribute(_config(), _config(), ["params.beta", "device"], CHOICES))
    assert sources["params.beta"] == "command line"
    assert sources["device.num_workers"] == "command line"  # `device.num_workers=...` or a section


@pytest.mark.quick
def test_a_device_s_fields_name_the_device() -> None:
    sources = _sources(attribute(_config(), _config(), [], CHOICES))
    assert sources["device.num_workers"] == "device laptop"
    assert sources["optimization.num_workers"] == "link to device.num_workers (device laptop)"


@pytest.mark.quick
def test_under_a_sweep_the_overrides_are_the_sweep_s() -> None:
    sources = _sources(
        attribute(_config(), _config(beta=2.0), ["params.beta"], CHOICES, in_sweep=True)
    )
    assert sources["params.beta"] == "sweep"
    assert sources["optimization.model.beta"] == "link to params.beta (sweep)"
    assert in_sweep({"WANDB_SWEEP_ID": "abc123"})
    assert in_sweep({SWEEP_ENV_VAR: "3"})
    assert not in_sweep({})


def _explain(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ: dict[str, Any] = {
        k: v for k, v in os.environ.items() if k not in ("DEVICE_NAME", SWEEP_ENV_VAR)
    }
    return subprocess.run(
        [sys.executable, "-m", "experiments.mnist_vae", *args],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _table(stdout: str) -> dict[str, tuple[str, str]]:
    header, *rows = stdout.splitlines()
    assert header.split() == ["key", "value", "source"]
    return {(cells := row.split(None, 2))[0]: (cells[1], cells[2]) for row in rows}


def test_explain_names_the_command_line_for_an_override_and_the_experiment_for_a_default(
    tmp_path: Path,
) -> None:
    root = f"device.experiments_root={tmp_path}"
    result = _explain("--explain", "data=synthetic", "params.beta=0.1", "logger=tensorboard", root)
    assert result.returncode == 0, result.stderr
    table = _table(result.stdout)
    assert table["params.beta"] == ("0.1", "command line")
    assert table["params.lr"] == ("0.001", "experiment")
    assert table["optimization.model.beta"] == ("0.1", "link to params.beta (command line)")
    assert table["data.train._target_"] == (
        "experiments.mnist.synthetic.SyntheticDigits",
        "group data=synthetic",
    )
    assert table["logger.version"] == ("tensorboard", "group logger=tensorboard")
    assert table["device.num_workers"][1] == "device default"
    assert table["trainer.accelerator"] == ("auto", "link to device.accelerator (device default)")
    assert "hydra.run.dir" not in table
    assert table["device.experiments_root"] == (str(tmp_path), "command line")
    assert not any(tmp_path.iterdir())  # it explains, and runs nothing


def test_explain_under_a_local_sweep_trial_names_the_sweep() -> None:
    result = _explain("--explain", "params.beta=0.3", **{SWEEP_ENV_VAR: "2"})
    assert result.returncode == 0, result.stderr
    assert _table(result.stdout)["params.beta"] == ("0.3", "sweep")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--explain", "params.bta=1"), "params.bta"),
        (
            ("--explain", "-m", "params.beta=1,2"),
            "--explain explains one new run's config: drop -m",
        ),
        (("--explain", "params.beta=high"), "params.beta"),
    ],
)
def test_a_bad_explain_command_line_is_one_line(args: tuple[str, ...], says: str) -> None:
    result = _explain(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and says in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


@pytest.mark.quick
@pytest.mark.parametrize(
    ("environ", "sweep"),
    [({"WANDB_SWEEP_ID": "abc123"}, "abc123"), ({SWEEP_ENV_VAR: "4"}, "4"), ({}, None)],
)
def test_a_run_s_record_names_the_sweep_that_gave_its_overrides(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], sweep: str | None
) -> None:
    for name in ("WANDB_SWEEP_ID", SWEEP_ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    # What `dlconf.compare --explain RUN` hands on, so the run's overrides read `sweep`.
    assert record_entry(["params.beta=1"], run_id="r", resumed=False)["sweep"] == sweep
