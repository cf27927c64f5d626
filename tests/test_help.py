"""``--help`` tells every key a user sets, its default, which group option runs by default,
and what a field means, from the docstring written under it."""

from __future__ import annotations

import os
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from dlconf.runner.cli import _import_devices
from dlconf.runner.field_docs import field_docs
from dlconf.runner.help import _escape, help_template
from experiments.mnist_vae import experiment

ROOT = Path(__file__).parents[1]


@dataclass
class Base:
    z_dim: int = 64
    """Number of latent dimensions."""
    lr: float = 1e-3
    """The base's words."""


@dataclass
class Child(Base):
    lr: float = 1e-2
    """Adam's learning rate,
    over two lines."""
    undocumented: int = 1
    layers: list[int] = field(default_factory=lambda: [1, 2])
    """Sizes."""


@pytest.mark.quick
def test_field_docs_come_from_the_docstring_under_each_field() -> None:
    assert field_docs(Child) == {
        "z_dim": "Number of latent dimensions.",
        "lr": "Adam's learning rate, over two lines.",  # the subclass's own wins
        "layers": "Sizes.",
    }


@pytest.mark.quick
def test_a_class_without_source_has_no_field_docs() -> None:
    assert field_docs(type("Made", (), {"__annotations__": {"x": int}})) == {}


@pytest.fixture(scope="module")
def text() -> str:
    _import_devices()
    rendered = string.Template(OmegaConf.create({"t": help_template(experiment)}).t)
    return rendered.substitute()  # as Hydra renders it


@pytest.mark.quick
@pytest.mark.parametrize(
    "expected",
    [
        "train_for='10 epochs'",
        "How long to train",
        "seed=42",
        "run.project='VAE_experiments'",
        "run.name='My_First_VAE'",
        "checkpoint.monitor='ELBO/Validation'",
        "checkpoint.every='15 minutes'",
        "checkpoint.mode='max'",
        "data: mnist, synthetic  (default: mnist)",
        "device: cluster, default, laptop, workstation  (default: default; DEVICE_NAME sets it)",
        "logger: none, tensorboard, wandb  (default: wandb)",
        "trainer.NAME=VALUE",
        "resume=last",
    ],
)
def test_help_lists_training_run_and_checkpoint_keys_and_defaults(text: str, expected: str) -> None:
    assert expected in text


@pytest.mark.quick
def test_help_shows_each_params_docstring_beside_its_default(text: str) -> None:
    beta = next(line for line in text.splitlines() if "params.beta=" in line)
    assert beta.split()[:2] == ["params.beta=0.5", "Weight"]
    assert "Weight of the KL regularization (beta-VAE); 1 gives the ELBO." in beta
    assert "params.encoder_layers=[1024,128]" in text  # as it would be typed
    assert "Hidden layer sizes of the encoder" in text  # inherited from EncoderParams
    assert "params.batch_size=128\n" in text  # undocumented: the default alone


@pytest.mark.quick
def test_help_speaks_to_users_not_of_the_seed(text: str) -> None:
    assert text.startswith("== mnist_vae ==\nVariational Autoencoder on MNIST\n")
    assert "seed's" not in text
    assert "MNIST_VAE.yaml" not in text


@pytest.mark.quick
@pytest.mark.parametrize("literal", ["${params.beta}", "costs $5", "${oc.env:HOME}", "\\${x}"])
def test_dollar_signs_survive_hydras_template(literal: str) -> None:
    template = OmegaConf.create({"t": _escape(literal)}).t
    assert string.Template(template).substitute() == literal


def test_help_command_prints_it_and_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "experiments.mnist_vae", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "DEVICE_NAME"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Weight of the KL regularization" in result.stdout
    assert "checkpoint.every='15 minutes'" in result.stdout
