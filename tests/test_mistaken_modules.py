"""Mistaken experiment modules, run as users run them: one line, exit 2, nothing written.

Each case is a small, correct experiment module with one mistake of the kind a researcher
makes, written to a temporary package and started with ``python -m``. Most of these raise
while the module is still being imported, before ``main()`` runs; the rest while it is
stored or validated. Every one must end the same way: exit code 2, a single ``error:``
line naming the problem, no traceback, and no run folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

MODULE = """
import dataclasses
from dataclasses import field

from lightning.pytorch import Trainer

from dlconf import (
    VALID, Checkpoint, Device, Duration, EvalSettings, Evaluate, Experiment, conf, epochs,
    global_steps, iterations, link, main, minutes, register_device,
)
from dlconf.evaluation import ELBOEvaluation, ImageSampleEvaluation
from dlconf.models import VAE, VIB
from experiments.mnist.architectures import MNISTDecoder, MNISTLatentClassifier
from experiments.mnist.configs import (
    ENCODER, MNIST_DATA, PRIOR, BatchParams, EncoderParams, batch_adam,
)


class Params(EncoderParams, BatchParams):
    beta: float = 0.5
    decoder_layers: list[int] = field(default_factory=lambda: [16])


class SampleParams(EvalSettings):
    every: Duration = minutes(1)
    n_samples: int = 4


class EvalParams(EvalSettings):
    samples: SampleParams = field(default_factory=SampleParams)


p = link(Params)
e = link(EvalParams)
decoder = conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers)
model = conf(VAE)(encoder=ENCODER, decoder=decoder, prior=PRIOR, beta=p.beta)
elbo = Evaluate("ELBO", conf(ELBOEvaluation)(n_samples=64), every=global_steps(1))
samples = Evaluate(
    "Samples", conf(ImageSampleEvaluation)(n_pictures=e.samples.n_samples), every=e.samples.every
)
params = Params()
checkpoint = Checkpoint(monitor=elbo.on(VALID))
experiment = Experiment(
    name="case",
    params=params,
    eval_params=EvalParams(),
    data=MNIST_DATA,
    default_data="synthetic",
    optimization=batch_adam(model),
    evaluation=[elbo, samples],
    train_for=global_steps(2),
    checkpoint=checkpoint,
)

if __name__ == "__main__":
    main(experiment)
"""

# (case, text in MODULE, its replacement, words the one line must hold)
MISTAKES = [
    (
        "misspelt_argument",
        "layers=p.decoder_layers)",
        "layrs=p.decoder_layers)",
        "MNISTDecoder has no argument 'layrs' (did you mean 'layers'?)",
    ),
    ("misspelt_link", "beta=p.beta)", "beta=p.bta)", "'params' has no field 'bta'"),
    (
        "post_init_check",
        "params = Params()",
        "params = Params(z_dim=0)",
        "params.z_dim must be >= 1",
    ),
    (
        "replace_misspelt",
        "params = Params()",
        "params = dataclasses.replace(Params(), bta=0.1)",
        "Params has no field 'bta'",
    ),
    ("link_arithmetic", "beta=p.beta)", "beta=p.beta / 10)", "is a link, not a value"),
    (
        "link_repeated",
        "n_pictures=e.samples.n_samples",
        "n_pictures=2 * e.samples.n_samples",
        "is a link, not a value",
    ),
    (
        "component_built",
        "decoder = conf(MNISTDecoder)(",
        "decoder = MNISTDecoder(",
        "a component built here instead of configured with conf(...)",
    ),
    (
        "trainer_built",
        "    checkpoint=checkpoint,\n)",
        "    checkpoint=checkpoint,\n    trainer=Trainer(max_epochs=1, logger=False),\n)",
        "a Trainer was built here",
    ),
    ("string_for_int", "z_dim=p.z_dim, layers", 'z_dim="64", layers', "a str, not an int"),
    ("default_data", 'default_data="synthetic"', 'default_data="MNIST"', "default_data='MNIST'"),
    (
        "duration_string",
        "train_for=global_steps(2)",
        'train_for="10 epcohs"',
        "train_for='10 epcohs' is not a duration",
    ),
    (
        "monitor_string",
        "Checkpoint(monitor=elbo.on(VALID))",
        'Checkpoint(monitor="ELBO/validation")',
        "takes a metric from an evaluation",
    ),
    (
        "checkpoint_counts_iterations",
        "Checkpoint(monitor=elbo.on(VALID))",
        "Checkpoint(every=iterations(100))",
        "counts iterations; checkpoints are saved by time, epochs or global steps",
    ),
    (
        "unannotated_field",
        "    beta: float = 0.5\n",
        "    beta = 0.5\n",
        "Params.beta = 0.5 has no type annotation",
    ),
    (
        "save_last_string",
        "Checkpoint(monitor=elbo.on(VALID))",
        'Checkpoint(monitor=elbo.on(VALID), save_last="yes")',
        "checkpoint.save_last='yes': a str, not a bool",
    ),
    (
        "device_field_typo",
        "p = link(Params)",
        "class Mine(Device):\n    data_rot: str = '/x'\n\n\np = link(Params)",
        "new field 'data_rot' (did you mean 'data_root'?)",
    ),
    (
        "device_precision",
        "p = link(Params)",
        "register_device('mine', Device(precision='bf17-mixed'))\np = link(Params)",
        "Device(precision='bf17-mixed'): 'bf17-mixed' is not one of",
    ),
    (
        "list_default",
        "decoder_layers: list[int] = field(default_factory=lambda: [16])",
        "decoder_layers: list[int] = [16]",
        "Params.decoder_layers: a list, dict or dataclass default is shared",
    ),
    (
        "link_indexed",
        "z_dim=p.z_dim, layers",
        "z_dim=p.decoder_layers[0], layers",
        "is a link, not a value",
    ),
    (
        "params_field_typo",
        "    beta: float = 0.5\n",
        "    beta: float = 0.5\n    z_dm: int = 2\n",
        "new field 'z_dm' (did you mean 'z_dim'?)",
    ),
    (
        "evaluation_the_model_cannot_serve",
        "model = conf(VAE)(encoder=ENCODER, decoder=decoder, prior=PRIOR, beta=p.beta)",
        "model = conf(VIB)(encoder=ENCODER, prior=PRIOR, beta=p.beta,\n"
        "    predictor=conf(MNISTLatentClassifier)(z_dim=p.z_dim, layers=[]))",
        "evaluation 'ELBO': ELBOEvaluation needs a LikelihoodModel",
    ),
    (
        "seed_none",
        "    checkpoint=checkpoint,\n)",
        "    checkpoint=checkpoint,\n    seed=None,\n)",
        "seed=None must be a whole number",
    ),
]


def _run(package: Path, case: str, text: str) -> subprocess.CompletedProcess[str]:
    (package / f"{case}.py").write_text(text)
    runs = package.parent / f"runs_{case}"
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    env.update(PYTHONPATH=f"{package.parent}{os.pathsep}{ROOT}", WANDB_MODE="disabled")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            f"mistakes.{case}",
            "logger=none",
            "trainer.enable_progress_bar=false",
            f"device.experiments_root={runs}",
        ],
        cwd=package.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("work") / "mistakes"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    return folder


def test_the_unmistaken_module_trains(package: Path) -> None:
    result = _run(package, "unmistaken", MODULE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((package.parent / "runs_unmistaken").glob("*/*/*/config.yaml"))


@pytest.mark.parametrize(("case", "old", "new", "words"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_mistake_is_one_line_exit_2_and_no_run_folder(
    package: Path, case: str, old: str, new: str, words: str
) -> None:
    assert MODULE.count(old) == 1, f"{case}: {old!r} must occur once in the module"
    result = _run(package, case, MODULE.replace(old, new))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    # One error line, the last thing printed (a Trainer built in the module prints
    # Lightning's own lines before dlconf can say anything).
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert words in errors[0]
    assert not (package.parent / f"runs_{case}").exists()
