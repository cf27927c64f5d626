"""Continuing a run: ``resume=<run folder>`` or ``resume=last``, and SLURM requeues.

A resumed run is the recorded run, continued: its ``config.yaml`` as it was (command-line
overrides are refused, except ``train_for=...`` to extend the training budget, and the
device: ``device=NAME`` / ``device.KEY=VALUE`` describe this machine, which may not be the
one the run started on), its
weights, optimizer state, counters, evaluation and train-for timers and random states from
the newest checkpoint, and its logs in the same place, with anything written after that
checkpoint dropped so no step appears twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from dlconf.callbacks.checkpoints import LAST_CHECKPOINT
from dlconf.errors import ConfigError
from dlconf.runner.record import RECORD_FILE
from dlconf.runner.run_folder import CONFIG_FILE

RESUME_KEY = "resume"
LATEST = "last"
OVERRIDABLE_ON_RESUME = ("train_for",)
"""Keys a resumed run may change: extending the budget is safe, anything else would make
the run something other than what was recorded."""


def split_resume(overrides: list[str]) -> tuple[str | None, list[str]]:
    """The value of ``resume=...`` (None when absent) and the other overrides."""
    value = None
    rest: list[str] = []
    for override in overrides:
        if override.startswith(RESUME_KEY + "="):
            value = override.split("=", 1)[1]
        else:
            rest.append(override)
    return value, rest


def is_device_override(override: str) -> bool:
    key = override.partition("=")[0]
    return key == "device" or key.startswith("device.")


def resumed_config(folder: Path, overrides: list[str]) -> DictConfig:
    """The recorded config of ``folder`` with the allowed ``overrides`` applied."""
    config_file = folder / CONFIG_FILE
    if not config_file.is_file():
        raise ConfigError(
            f"resume={folder}: no {CONFIG_FILE} there; give a run folder "
            "(<experiments_root>/<project>/<name>/<date>_<time>) or resume=last"
        )
    cfg = OmegaConf.load(config_file)
    assert isinstance(cfg, DictConfig)
    for override in overrides:
        key, _, value = override.partition("=")
        if key not in OVERRIDABLE_ON_RESUME:
            raise ConfigError(
                f"resume continues the run as recorded: {override!r} is refused "
                f"(only {', '.join(k + '=...' for k in OVERRIDABLE_ON_RESUME)} and the device "
                "may change). "
                "Start a new run to change anything else."
            )
        OmegaConf.update(cfg, key, value)
    return cfg


def latest_run(experiments_root: Path, project: str, name: str) -> Path:
    parent = experiments_root.expanduser() / project / name
    runs = sorted(p.parent for p in parent.glob(f"*/{CONFIG_FILE}"))
    if not runs:
        raise ConfigError(f"resume=last: no run of {project}/{name} under {parent}")
    return runs[-1]


def run_of_slurm_job(experiments_root: Path, project: str, name: str) -> Path | None:
    """The run this SLURM job started before it was requeued, if any."""
    job_id = os.environ.get("SLURM_JOB_ID")
    if not job_id:
        return None
    parent = experiments_root.expanduser() / project / name
    for record in sorted(parent.glob(f"*/{RECORD_FILE}"), reverse=True):
        history = json.loads(record.read_text())
        if history and history[0].get("slurm_job_id") == job_id:
            return record.parent
    return None


def newest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint with the highest global step: last.ckpt, or a SLURM hpc_ckpt_*."""
    candidates = [folder / "checkpoints" / LAST_CHECKPOINT, *folder.glob("hpc_ckpt_*.ckpt")]
    steps = {path: checkpoint_step(path) for path in candidates if path.is_file()}
    return max(steps, key=lambda path: steps[path]) if steps else None


def checkpoint_step(path: Path) -> int:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    return int(checkpoint["global_step"])
