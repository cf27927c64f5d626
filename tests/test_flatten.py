"""Flattened configs: the dotted keys W&B's run config and sweeps address, TensorBoard's hparams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf

from dlconf.loggers.flatten import experiment_config, flatten, params_config
from dlconf.loggers.tensorboard import TensorBoardEntryLogger


@pytest.mark.parametrize(
    ("tree", "flat"),
    [
        ({"seed": 1}, {"seed": 1}),
        ({"params": {"beta": 0.5}}, {"params.beta": 0.5}),
        ({"a": {"b": {"c": "x"}}, "d": None}, {"a.b.c": "x", "d": None}),
        # A list is one value: a sweep sets `params.layers=[64,32]` whole.
        ({"params": {"layers": [128, 64]}}, {"params.layers": [128, 64]}),
        # An empty section is kept, so the key still says it exists.
        ({"callbacks": {}}, {"callbacks": {}}),
        # Names may hold slashes (evaluation names); only nesting makes dots.
        ({"evaluation": {"Images/Samples": {"every": "1 minute"}}},
         {"evaluation.Images/Samples.every": "1 minute"}),
    ],
)  # fmt: skip
def test_flatten_makes_one_dotted_key_per_leaf(tree: dict[str, Any], flat: dict[str, Any]) -> None:
    assert flatten(tree) == flat


def test_flatten_prefix_is_prepended() -> None:
    assert flatten({"beta": 0.5}, prefix="params.") == {"params.beta": 0.5}


@pytest.fixture
def composed() -> DictConfig:
    """The shape of a composed run config: params, links to them and to the device, Hydra."""
    return OmegaConf.create(
        {
            "seed": 42,
            "params": {"beta": 0.5, "layers": [128, 64]},
            "eval_params": {"elbo": {"every": "1 minute"}},
            "device": {"num_workers": 4, "data_root": "/data"},
            "logger": {"_target_": "x.Logger", "_partial_": True, "project": "${run.project}"},
            "run": {"project": "p", "name": "n"},
            "optimization": {
                "_target_": "x.Optimization",
                "_convert_": "all",
                "model": {"_target_": "x.VAE", "beta": "${params.beta}"},
                "num_workers": "${device.num_workers}",
            },
            "hydra": {"job": {"name": "mnist_vae"}},
        }
    )


def test_experiment_config_resolves_links(composed: DictConfig) -> None:
    config = experiment_config(composed)

    assert config["params.beta"] == 0.5
    assert config["optimization.model.beta"] == 0.5  # ${params.beta}, resolved
    assert config["params.layers"] == [128, 64]
    assert config["eval_params.elbo.every"] == "1 minute"
    assert config["optimization.model._target_"] == "x.VAE"  # what was built stays


def test_experiment_config_leaves_out_the_machine_and_hydra(composed: DictConfig) -> None:
    config = experiment_config(composed)

    assert not [key for key in config if key.startswith(("device.", "logger.", "hydra."))]
    # A value linked to the device is the machine's too, wherever it sits.
    assert "optimization.num_workers" not in config
    assert "optimization._convert_" not in config
    assert set(config) == {
        "seed",
        "params.beta",
        "params.layers",
        "eval_params.elbo.every",
        "run.project",
        "run.name",
        "optimization._target_",
        "optimization.model._target_",
        "optimization.model.beta",
    }


def test_params_config_is_the_hyper_parameters_only(composed: DictConfig) -> None:
    assert params_config(composed) == {"params.beta": 0.5, "params.layers": [128, 64]}


def test_params_config_of_a_config_without_params_is_empty() -> None:
    assert params_config(OmegaConf.create({"seed": 1})) == {}


def test_tensorboard_records_the_params_as_hparams(composed: DictConfig, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    logger = TensorBoardEntryLogger(save_dir=str(tmp_path))
    logger.record_config(composed, tmp_path)
    logger.log_hyperparams({})  # what Lightning adds at fit start for a module without hparams
    logger.finalize("success")

    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    start = HParamsPluginData.FromString(
        events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    ).session_start_info
    assert {
        key: value.number_value or value.string_value for key, value in start.hparams.items()
    } == {
        "params.beta": 0.5,
        "params.layers": "[128, 64]",  # TensorBoard has no list type
    }
