"""The ``logger`` group: which logger a run writes to (``logger=tensorboard``).

Each option is a partial config: the runner completes it with the run folder (which only
exists once the config is valid), the step a resumed run continues from and the run's id
(the W&B run id, kept in the run's record). Logger modules are imported when instantiated, never
before, so a run without W&B never imports it.

W&B is the default: online where credentials exist, offline otherwise (``wandb sync``
uploads later). Its project and run name are the experiment's ``run.project`` and
``run.name``; ``logger.entity=my-team`` and ``logger.tags=[a,b]`` set the rest.
"""

from __future__ import annotations

from typing import Any

from dlconf.runner.run_folder import TENSORBOARD_DIR


def no_logger(save_dir: str, resume_step: int | None = None, run_id: str | None = None) -> None:
    """The ``logger=none`` option: evaluations run, nothing is written."""
    del save_dir, resume_step, run_id


LOGGER_OPTIONS: dict[str, dict[str, Any]] = {
    "wandb": {
        "_target_": "dlconf.loggers.wandb.WandbEntryLogger",
        "_partial_": True,
        "project": "${run.project}",
        "name": "${run.name}",
        "entity": None,
        "tags": None,
    },
    "tensorboard": {
        "_target_": "dlconf.loggers.tensorboard.TensorBoardEntryLogger",
        "_partial_": True,
        "version": TENSORBOARD_DIR,
    },
    "none": {"_target_": f"{__name__}.no_logger", "_partial_": True},
}


def default_logger() -> str:
    return "wandb"
