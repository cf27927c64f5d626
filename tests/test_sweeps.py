"""Typed sweeps: the W&B config they make, the checks against the experiment, the engine.

Everything here runs in-process or as `python -m sweeps.<name> --yaml`; no run is trained
(see test_sweeps_runs.py) and no W&B server is called (`wandb.sweep` is made to fail).
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from collections.abc import Iterator

import pytest
import yaml

from dlconf import TRAIN, ConfigError, Metric, counted, link, train_loss
from dlconf.sweeps import (
    Constant,
    IntUniform,
    LogUniform,
    Parameter,
    Uniform,
    Values,
    main,
    vary,
)
from dlconf.sweeps.check import check_sweep
from dlconf.sweeps.definition import key_of
from dlconf.sweeps.engine import ENGINE_MODULE, Finished, engine, next_values, schema_violations
from experiments.mnist_vae import EvalParams, elbo
from sweeps.mnist_vae import sweep as vae_sweep
from sweeps.mnist_vib import sweep as vib_sweep
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def no_wandb_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Creating a sweep on the server fails the test: nothing here may call it."""
    import wandb

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("a test called wandb.sweep")

    monkeypatch.setattr(wandb, "sweep", refuse)
    yield


def test_yaml_is_the_seed_sweep_and_w_and_b_accepts_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sweeps.mnist_vae", "--yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert config["program"] == "experiments/mnist_vae.py"
    assert config["command"] == [
        "${env}",
        "${interpreter}",
        "-m",
        "experiments.mnist_vae",
        "${args_no_hyphens}",
    ]
    assert config["method"] == "bayes"
    assert config["metric"] == {"name": "ELBO/Validation", "goal": "maximize"}
    assert config["project"] == "VAE_experiments"  # where the experiment's runs log
    beta = config["parameters"]["params.beta"]
    # The seed's log_uniform from e^-20 to e^2, in the form W&B's validator accepts today.
    assert beta["distribution"] == "log_uniform_values"
    assert beta["min"] == pytest.approx(math.exp(-20))
    assert beta["max"] == pytest.approx(math.exp(2))
    assert config["parameters"]["params.batch_size"] == {"values": [64, 128]}
    assert config["parameters"]["train_for"] == {"value": "10 epochs"}
    assert schema_violations(config) == []
    engine().SweepConfig(config)  # W&B's own constructor raises on any violation


def test_every_shipped_sweep_checks_against_its_experiment() -> None:
    for sweep in (vae_sweep, vib_sweep):
        check_sweep(sweep)
        assert schema_violations(sweep.to_wandb()) == []


def test_parameters_are_named_through_typed_links() -> None:
    e = link(EvalParams, "eval_params")
    assert vary(e.elbo.n_samples).over(IntUniform(min=64, max=512)) == Parameter(
        "eval_params.elbo.n_samples", IntUniform(min=64, max=512)
    )
    with pytest.raises(ConfigError, match=r"vary\(\) takes a typed link such as p.beta"):
        key_of(0.5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"parameters": [Parameter("params.bta", LogUniform(min=-20, max=2))]},
            "params.bta (LogUniform): unknown key 'params.bta' (did you mean 'params.beta'?)",
        ),
        (
            {"metric": Metric("ELBO/Valid", "maximize", "ELBO")},
            "metric 'ELBO/Valid' is not logged by mnist_vae (did you mean 'ELBO/Validation'",
        ),
        (
            {"metric": Metric("Accuracy/Validation", "maximize", "Accuracy")},
            "metric 'Accuracy/Validation' is not logged by mnist_vae",
        ),
        (
            {"parameters": [Parameter("params.batch_size", Uniform(min=32, max=256))]},
            "params.batch_size is an int, but Uniform samples floats (W&B would send "
            "params.batch_size=144.0): use IntUniform or Values",
        ),
        (
            {"parameters": [Parameter("params.batch_size", Values([0, 64]))]},
            "params.batch_size (Values): params.batch_size must be >= 1, got 0",
        ),
        (
            {"parameters": [Parameter("params.z_dim", Values(["big"]))]},
            "bad value in 'params.z_dim=big'",
        ),
        (
            {"parameters": [Parameter("trainer.max_epochs", Values([1, 2]))]},
            "an agent may set only params.*, eval_params.*, train_for and seed",
        ),
        (
            {"parameters": [Parameter("params.beta", Uniform(min=2, max=1))]},
            "W&B refuses the sweep config: params.beta: min 2 is not less than max 1",
        ),
        (
            {"train_for": counted(5, "generator_step")},
            "train_for: train_for='5 generator_steps' has an unknown unit 'generator_steps'",
        ),
        ({"parameters": []}, "sweep 'mnist_vae' varies no parameter"),
    ],
)
def test_a_sweep_the_experiment_cannot_run_is_refused(
    change: dict[str, object], message: str
) -> None:
    bad = dataclasses.replace(vae_sweep, **change)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as error:
        check_sweep(bad)
    assert message in str(error.value).splitlines()[0]


def test_metrics_follow_from_the_evaluations() -> None:
    check_sweep(dataclasses.replace(vae_sweep, metric=train_loss("regularization")))
    check_sweep(dataclasses.replace(vae_sweep, metric=elbo.on(TRAIN)))
    with pytest.raises(ConfigError, match="it logs: ELBO/Train, ELBO/Validation, "):
        check_sweep(
            dataclasses.replace(vae_sweep, metric=Metric("Images/Samples", "maximize", None))
        )


def test_a_repeated_parameter_is_refused_at_definition() -> None:
    with pytest.raises(ConfigError, match="sets train_for twice"):
        dataclasses.replace(vae_sweep, parameters=[Parameter("train_for", Constant("1 epoch"))])


def test_the_command_line_refuses_a_bad_sweep_before_creating_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = dataclasses.replace(
        vae_sweep, parameters=[Parameter("params.bta", LogUniform(min=-20, max=2))]
    )
    for argv in ([], ["--yaml"], ["--local", "3"]):
        with pytest.raises(SystemExit) as exit_:
            main(bad, argv)
        assert exit_.value.code == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        (line,) = captured.err.splitlines()
        assert line.startswith("error: params.bta (LogUniform): unknown key 'params.bta'")


def test_creating_a_sweep_offline_says_what_to_do_instead(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    with pytest.raises(SystemExit) as exit_:
        main(vae_sweep, [])
    assert exit_.value.code != 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "error: cannot create a W&B sweep with WANDB_MODE=offline: it needs the W&B server. "
        "Use --yaml to print it for `wandb sweep`, or --local N to run N trials here"
    )


def test_creating_a_sweep_without_credentials_says_what_to_do_instead(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path) + "/no-netrc")
    with pytest.raises(SystemExit):
        main(vae_sweep, [])
    (line,) = capsys.readouterr().err.splitlines()
    assert "no W&B credentials (WANDB_API_KEY or `wandb login`)" in line
    assert "Use --yaml" in line


def test_overrides_are_for_local_trials_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(vae_sweep, ["data=synthetic"])
    assert exit_.value.code == 2
    assert "apply to --local trials only" in capsys.readouterr().err


def test_the_engine_loads_under_its_own_name_beside_our_sweeps_package() -> None:
    import sweeps

    assert engine().__name__ == ENGINE_MODULE
    assert hasattr(engine(), "next_run")
    assert not hasattr(sweeps, "next_run")  # ours still wins the name `sweeps`


def test_the_engine_proposes_values_of_the_sweeps_types() -> None:
    config = vib_sweep.to_wandb()
    finished: list[Finished] = []
    for accuracy in (0.5, 0.7, 0.6):
        values = next_values(config, "Accuracy/Validation", finished)
        assert values is not None
        assert set(values) == {
            "params.beta",
            "params.z_dim",
            "params.classifier_layers",
            "train_for",
        }
        assert type(values["params.beta"]) is float and 1e-6 <= values["params.beta"] <= 1.0
        assert type(values["params.z_dim"]) is int and 2 <= values["params.z_dim"] <= 64
        assert values["params.classifier_layers"] in ([], [128])
        assert values["train_for"] == "5 epochs"
        finished.append(Finished(values, accuracy))


def test_a_grid_ends_when_every_combination_ran() -> None:
    grid = dataclasses.replace(
        vae_sweep, method="grid", parameters=[vary_batch_size(Values([64, 128]))]
    )
    finished: list[Finished] = []
    while (values := next_values(grid.to_wandb(), "ELBO/Validation", finished)) is not None:
        finished.append(Finished(values, -100.0))
    assert sorted(f.values["params.batch_size"] for f in finished) == [64, 128]


def vary_batch_size(distribution: Values[int]) -> Parameter:
    from experiments.mnist_vae import Params

    return vary(link(Params, "params").batch_size).over(distribution)


def test_creating_a_sweep_with_no_server_to_reach_fails_fast(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A closed port on this machine stands for a compute node without network.
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(SystemExit):
        main(vae_sweep, [])
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: cannot create a W&B sweep: cannot reach 127.0.0.1:9 (")
    assert line.endswith(
        "Use --yaml to print it for `wandb sweep`, or --local N to run N trials here"
    )
