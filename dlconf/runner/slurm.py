"""SLURM: which job this is, whether it is the same job restarted, and the ranks of a step.

A run continues on its own only when it is the *same job restarted*: SLURM sets
``SLURM_RESTART_COUNT`` (1, 2, ...) when it requeues a job, and the run folder this job made
before then records the same job id, the same overrides and the same config. Runs started
one after the other in one job (``wandb agent --count 4``) share the job id but not a restart,
so each gets a folder of its own.

Under ``srun`` across nodes every task is a process of one DDP run (``SLURM_PROCID`` is its
rank); task 0 makes or opens the run folder and the others find it on the shared file
system by the job, the step and the restart count it records.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from dlconf.errors import ConfigError
from dlconf.runner.run_folder import RunFolder

RANK_ZERO_TIMEOUT_S = 600.0
"""How long a task of rank > 0 waits for task 0's run folder (task 0 loads data first)."""


def job_id(environ: Mapping[str, str] = os.environ) -> str | None:
    return environ.get("SLURM_JOB_ID") or None


def step_id(environ: Mapping[str, str] = os.environ) -> str | None:
    return environ.get("SLURM_STEP_ID") or None


def restart_count(environ: Mapping[str, str] = os.environ) -> int:
    """0 on a job's first start; SLURM counts up on each requeue."""
    try:
        return int(environ.get("SLURM_RESTART_COUNT") or 0)
    except ValueError:
        return 0


def task_rank(environ: Mapping[str, str] = os.environ) -> int | None:
    """This task's rank when an srun step runs several tasks (one DDP run), else None."""
    try:
        ntasks = int(environ.get("SLURM_NTASKS") or environ.get("SLURM_STEP_NUM_TASKS") or 1)
        rank = int(environ.get("SLURM_PROCID") or 0)
    except ValueError:
        return None
    return rank if ntasks > 1 and step_id(environ) is not None else None


def requeued_run(
    experiments_root: Path, project: str, name: str, args: Sequence[str], config_yaml: str
) -> RunFolder | None:
    """The run this job started before SLURM requeued it, if this is such a restart."""
    job, restarts = job_id(), restart_count()
    if job is None or restarts < 1:
        return None
    for folder in reversed(RunFolder.runs_of(experiments_root, project, name)):
        history = folder.history()
        if not history or history[0].get("slurm_job_id") != job:
            continue
        # Continued already since this restart: a later run of the job, not the requeued one.
        if int(history[-1].get("slurm_restart_count") or 0) >= restarts:
            continue
        if history[0].get("args") == list(args) and folder.config_file.read_text() == config_yaml:
            return folder
    return None


def rank_zero_folder(
    experiments_root: Path, project: str, name: str, args: Sequence[str], rank: int
) -> RunFolder:
    """The folder task 0 of this srun step made or opened: its newest record entry is of
    this job, step and restart, with the same overrides."""
    key = (job_id(), step_id(), restart_count(), list(args))
    deadline = time.monotonic() + RANK_ZERO_TIMEOUT_S
    while time.monotonic() < deadline:
        for folder in reversed(RunFolder.runs_of(experiments_root, project, name)):
            history = folder.history()
            if not history:
                continue
            last = history[-1]
            found = (
                last.get("slurm_job_id"),
                last.get("slurm_step_id"),
                int(last.get("slurm_restart_count") or 0),
                last.get("args"),
            )
            if found == key:
                return RunFolder(folder.path)
        time.sleep(0.5)
    raise ConfigError(
        f"SLURM task {rank}: task 0 made no run folder of job {key[0]} step {key[1]} under "
        f"{experiments_root / project / name} in {RANK_ZERO_TIMEOUT_S:.0f} s; every node must "
        "see the same device.experiments_root (a shared file system)"
    )
