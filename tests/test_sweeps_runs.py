"""Sweeps that train: an agent's command line, and a local sweep of three trials.

Both run the real experiment on small MNIST-format files for 5 global steps; W&B is offline
and no W&B server is involved anywhere.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

from dlconf import global_steps, link
from dlconf.sweeps import Constant, vary
from dlconf.sweeps.engine import engine
from experiments.mnist_vae import EvalParams
from sweeps.mnist_vae import sweep
from tests.conftest import ROOT, run_folders

e = link(EvalParams, "eval_params")

TINY_EVALUATIONS = [
    vary(e.elbo.n_samples).over(Constant(64)),
    vary(e.samples.n_samples).over(Constant(4)),
    vary(e.reconstruction.n_samples).over(Constant(4)),
]


def _agent_command(config: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """The command `wandb agent` runs for ``values``, built as wandb_agent.py builds it."""
    macros = {
        "env": ["/usr/bin/env"],
        "interpreter": [sys.executable],  # the agent's `python`, here the test's venv
        **create_sweep_command_args({"args": values}),
    }
    command: list[str] = []
    for part in config["command"]:
        is_macro = part.startswith("${") and part.endswith("}")
        command += macros[part[2:-1]] if is_macro else [part]
    return command


def test_an_agents_command_line_runs_the_experiment(mnist_root: Path, tmp_path: Path) -> None:
    tiny = dataclasses.replace(
        sweep, train_for=global_steps(5), parameters=[*sweep.parameters, *TINY_EVALUATIONS]
    )
    config = yaml.safe_load(tiny.to_yaml())  # what the server holds after `wandb sweep`
    proposal = engine().next_run(config, [])
    command = _agent_command(config, proposal.config)
    beta = proposal.config["params.beta"]["value"]
    batch_size = proposal.config["params.batch_size"]["value"]
    assert command[:4] == ["/usr/bin/env", sys.executable, "-m", "experiments.mnist_vae"]
    assert f"params.beta={beta}" in command
    assert "train_for=5 global_steps" in command

    # The default device reads ./data and writes ./runs: the agent's working directory.
    (tmp_path / "data").symlink_to(mnist_root)
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    env.update(WANDB_SWEEP_ID="test-sweep", WANDB_MODE="offline", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = run_folders(tmp_path / "runs")
    resolved = yaml.safe_load((run / "resolved.yaml").read_text())
    assert resolved["params"]["beta"] == float(f"{beta}")
    assert resolved["params"]["batch_size"] == batch_size
    assert resolved["train_for"] == "5 global_steps"
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_a_local_sweep_runs_three_trials_and_ranks_them(mnist_root: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeps.mnist_vae",
            "--local",
            "3",
            # The machine's overrides, after the sampled values: tiny trials on tiny data.
            f"device.data_root={mnist_root}",
            "device.download_files=false",
            f"device.experiments_root={tmp_path}",
            "train_for=5 global_steps",
            "eval_params.elbo.n_samples=64",
            "eval_params.samples.n_samples=4",
            "eval_params.reconstruction.n_samples=4",
            "trainer.enable_progress_bar=false",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k != "DEVICE_NAME"},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    # One progress line per trial, with the values it ran with.
    progress = re.findall(
        r"^trial (\d)/3: ELBO/Validation=(\S+) \(\d+ s\) params.beta=(\S+) "
        r"params.batch_size=(\d+)$",
        result.stdout,
        flags=re.MULTILINE,
    )
    assert [number for number, *_ in progress] == ["1", "2", "3"]

    # The table: best ELBO first, each trial once.
    lines = result.stdout.split("\n\n")[1].splitlines()
    assert lines[0].split() == [
        "rank",
        "trial",
        "ELBO/Validation",
        "params.beta",
        "params.batch_size",
        "status",
        "steps",
        "seconds",
    ]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert sorted(row[1] for row in rows) == ["1", "2", "3"]
    elbos = [float(row[2]) for row in rows]
    assert elbos == sorted(elbos, reverse=True)
    assert all(-800 < elbo < 0 for elbo in elbos)  # a per-image ELBO in nats, after 5 steps

    # Each trial is a normal run of the experiment with its sampled values.
    (folder,) = (tmp_path / "local_sweeps" / "mnist_vae").iterdir()
    assert (folder / "results.txt").read_text().splitlines() == lines
    # The recorded sweep is the one the trials ran: the machine's train_for, not the sweep's.
    ran = dataclasses.replace(sweep, train_for=global_steps(5))
    assert yaml.safe_load((folder / "sweep.yaml").read_text()) == ran.to_wandb()
    for number, _, beta, batch_size in progress:
        (run,) = run_folders(folder / f"trial-{number}")
        resolved = yaml.safe_load((run / "resolved.yaml").read_text())
        assert resolved["params"]["beta"] == float(beta)
        assert resolved["params"]["batch_size"] == int(batch_size)
        assert resolved["train_for"] == "5 global_steps"  # the machine's override won
        command = (folder / f"trial-{number}.log").read_text().splitlines()[0].split(" ")
        assert command.count("train_for=5") == 1  # one train_for in the trial's command
        assert not any(arg.startswith("train_for=10") for arg in command)
        assert list((run / "tensorboard").glob("events.out.tfevents.*"))
