"""The run folder: one per run, never overwritten, holding what reproduces the run.

``<device.experiments_root>/<run.project>/<run.name>/<date>_<time>[-N]`` with the composed
config twice: ``config.yaml`` as composed (links such as ``${params.beta}`` intact, the
shape the experiment was written in) and ``resolved.yaml`` with every value filled in.
"""

from __future__ import annotations

import shlex
import sys
from datetime import datetime
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONFIG_FILE = "config.yaml"
RESOLVED_CONFIG_FILE = "resolved.yaml"
COMMAND_FILE = "command.txt"


def create_run_folder(experiments_root: Path, project: str, name: str) -> Path:
    """Create and return a new, empty run folder; never reuses an existing one."""
    parent = experiments_root / project / name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    for attempt in range(1000):
        folder = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            folder.mkdir()  # atomic: two runs starting in the same second get two folders
        except FileExistsError:
            continue
        return folder
    raise RuntimeError(f"could not create a new run folder under {parent}")


def save_config(folder: Path, cfg: DictConfig) -> None:
    (folder / CONFIG_FILE).write_text(OmegaConf.to_yaml(cfg))
    (folder / RESOLVED_CONFIG_FILE).write_text(OmegaConf.to_yaml(cfg, resolve=True))
    (folder / COMMAND_FILE).write_text(shlex.join([sys.executable, *sys.argv]) + "\n")
