"""The ``logger`` group: which logger a run writes to (``logger=tensorboard``).

Each option is a partial config: the runner completes it with the run folder, which only
exists once the config is valid. Logger modules are imported when instantiated, never
before, so a run without W&B never imports it.
"""

from __future__ import annotations

from typing import Any


def no_logger(save_dir: str) -> None:
    """The ``logger=none`` option: evaluations run, nothing is written."""
    del save_dir


LOGGER_OPTIONS: dict[str, dict[str, Any]] = {
    "tensorboard": {
        "_target_": "dlconf.loggers.tensorboard.TensorBoardEntryLogger",
        "_partial_": True,
    },
    "none": {"_target_": f"{__name__}.no_logger", "_partial_": True},
}


def default_logger() -> str:
    return "tensorboard"
