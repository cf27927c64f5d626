"""How a run's folder is opened: the one thing a new run, a resume, a SLURM requeue and a
DDP rank do differently.

Each function returns the :class:`~dlconf.runner.run_folder.RunFolder` to train in, with
the checkpoint to continue from (``resume_from``), and writes what rank 0 records: a new
run's config and command, and one record entry per process that trains in the folder.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from omegaconf import DictConfig, OmegaConf

from dlconf.errors import ConfigError
from dlconf.runner import slurm
from dlconf.runner.record import new_run_id, record_entry, rerun_command
from dlconf.runner.run_folder import RunFolder, check_name
from dlconf.runner.run_label import run_label
from dlconf.runner.validate import ValidConfig, validate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunConfig:
    """A composed config, validated once, and what validation parsed from it."""

    cfg: DictConfig
    """As composed (or recorded): links such as ``${params.beta}`` intact."""
    valid: ValidConfig

    @classmethod
    def check(cls, cfg: DictConfig) -> RunConfig:
        return cls(cfg, validate(cfg))


def new_run(run: RunConfig, args: Sequence[str], *, job_number: int | None = None) -> RunFolder:
    """A new folder for ``run``; or, when this is the same SLURM job restarted, its folder.

    ``job_number``: the run is that job of a multirun, and its folder says so.
    """
    cfg = run.cfg
    root = Path(cfg.device.experiments_root).expanduser()
    project, name = _name(cfg, "project"), _name(cfg, "name")
    requeued = slurm.requeued_run(root, project, name, args, OmegaConf.to_yaml(cfg))
    if requeued is not None:
        start = requeued.newest_checkpoint()
        if start is not None:
            log.info(
                "SLURM restart %d of job %s: continuing %s from step %d",
                slurm.restart_count(),
                slurm.job_id(),
                requeued.path,
                start.step,
            )
            requeued.append_record(record_entry(args, run_id=requeued.run_id, resumed=True))
            return dataclasses.replace(requeued, resume_from=start)
        log.warning("SLURM restart: %s saved no checkpoint; starting anew", requeued.path)
    folder = RunFolder.create(root, project, name, run_label(args, job_number=job_number))
    try:
        folder.save_config(cfg, rerun_command(args))
        folder.append_record(record_entry(args, run_id=new_run_id(), resumed=False))
    except BaseException:
        folder.remove()
        raise
    return folder


def resumed_run(folder: RunFolder, args: Sequence[str]) -> RunFolder:
    """``folder``, to continue from its newest readable checkpoint; refused without one."""
    start = folder.newest_checkpoint()
    if start is None:
        command = folder.command_file.read_text().strip() if folder.command_file.is_file() else ""
        again = f": run it anew with {command}" if command else ""
        raise ConfigError(
            f"resume={folder.path}: the run has no checkpoint to continue from (it stopped "
            f"before its first save, or {folder.checkpoint_dir.name}/ was removed){again}"
        )
    log.info("resuming %s from %s (step %d)", folder.path, start.path.name, start.step)
    folder.append_record(record_entry(args, run_id=folder.run_id, resumed=True))
    return dataclasses.replace(folder, resume_from=start)


def rank_run(folder: RunFolder) -> RunFolder:
    """``folder`` as a DDP rank > 0 trains in it: rank 0's checkpoint (rank 0 saves none
    before every rank has started), nothing written."""
    return dataclasses.replace(folder, new=False, resume_from=folder.newest_checkpoint())


def srun_rank_run(run: RunConfig, args: Sequence[str], rank: int) -> RunFolder:
    """The folder task 0 of this ``srun`` step opened, for task ``rank`` > 0."""
    cfg = run.cfg
    root = Path(cfg.device.experiments_root).expanduser()
    folder = slurm.rank_zero_folder(root, str(cfg.run.project), str(cfg.run.name), args, rank)
    return rank_run(folder)


def _name(cfg: DictConfig, key: str) -> str:
    if OmegaConf.is_interpolation(cfg.run, key):
        written: object = cast(dict[str, object], OmegaConf.to_container(cfg.run))[key]
        raise ConfigError(
            f"run.{key}={written!r} names the run folder: give a plain name, not an "
            "interpolation or a link (it could point the folder anywhere); -m and sweeps "
            "add each run's swept values to its folder name themselves"
        )
    return check_name(f"run.{key}", cfg.run[key])
