"""One run: validate, seed, build, create (or reopen) the run folder, fit.

Order matters for "nothing half-written": the config is validated and the optimization
(model and data) built before the run folder exists; if the logger or the Trainer then
fails on a user's value, the new folder is removed again. Such failures exit with code 2
and one message.
"""

from __future__ import annotations

import copy
import ctypes
import logging
import os
import shutil
import sys
from datetime import timedelta
from pathlib import Path

from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig

from dlconf.callbacks import EvaluationCallback, TrainForCallback, TrainingClock
from dlconf.callbacks.checkpoints import AtomicCheckpointIO, SaveOnStop
from dlconf.durations import EPOCH, GLOBAL_STEP, Duration
from dlconf.errors import DlconfError
from dlconf.loggers.base import ConfigRecorder
from dlconf.optimization.base import Optimization
from dlconf.runner.build import build
from dlconf.runner.cli import exit_with
from dlconf.runner.record import write_record
from dlconf.runner.resume import checkpoint_step, newest_checkpoint, run_of_slurm_job
from dlconf.runner.run_folder import create_run_folder, save_config
from dlconf.runner.validate import ValidConfig, validate

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
RUN_DIR_ENV = "DLCONF_RUN_DIR"
NVML_CHECK_ENV = "PYTORCH_NVML_BASED_CUDA_CHECK"
PROGRESS_BAR_REFRESH_STEPS = 20
CHECKPOINT_ENV = "DLCONF_RESUME_CHECKPOINT"


def run_job(cfg: DictConfig) -> float | None:
    """Hydra's task function; returns the final monitored metric for sweepers."""
    return _reporting_errors(cfg, None)


def resume_job(cfg: DictConfig, folder: Path) -> float | None:
    """Continue the run in ``folder`` with its recorded ``cfg``."""
    return _reporting_errors(cfg, folder)


def _reporting_errors(cfg: DictConfig, resume_dir: Path | None) -> float | None:
    try:
        return train(cfg, resume_dir)
    except DlconfError as error:
        exit_with(error)
    except SIGTERMException:
        # Lightning stopped after the current step and SaveOnStop saved last.ckpt; a
        # non-zero status tells a scheduler the run is not finished (128 + SIGTERM).
        sys.stderr.write(
            "stopped by SIGTERM; the checkpoint is saved: continue with "
            "resume=<run folder> or resume=last\n"
        )
        sys.exit(143)


def train(cfg: DictConfig, resume_dir: Path | None = None) -> float | None:
    """Run ``cfg``: a new run, or the run in ``resume_dir`` continued from its checkpoint."""
    valid = validate(cfg)
    # Instantiating resolves interpolations in place (`${device.data_root}` becomes this
    # machine's path); the run's records keep the links, so they are made from a copy.
    recorded = copy.deepcopy(cfg)
    seed_everything(cfg.seed, workers=True, verbose=False)
    optimization: Optimization = build(cfg.optimization, "optimization")
    clock = TrainingClock()
    checkpoint = _checkpoint(cfg, valid.checkpoint_every)
    callbacks = [*_callbacks(cfg, valid, clock), SaveOnStop(checkpoint), checkpoint]
    if cfg.trainer.enable_progress_bar is not False:
        # Lightning's default redraws the bar twice a step, a measurable share of a small
        # model's step (benchmarks/README.md); a few redraws a second read the same.
        callbacks.append(TQDMProgressBar(refresh_rate=PROGRESS_BAR_REFRESH_STEPS))
    _skip_nvml_check_without_driver()
    spawned = _spawned_rank()
    experiments_root = Path(cfg.device.experiments_root).expanduser()
    if spawned is not None:
        run_dir, ckpt_path = spawned
        fresh = False
    else:
        resume_dir = resume_dir or run_of_slurm_job(experiments_root, cfg.run.project, cfg.run.name)
        fresh = resume_dir is None
        run_dir = resume_dir or create_run_folder(experiments_root, cfg.run.project, cfg.run.name)
        ckpt_path = None if fresh else newest_checkpoint(run_dir)
    try:
        if fresh:
            save_config(run_dir, recorded)
        if spawned is None:
            write_record(run_dir, resumed=not fresh)
        # The Trainer before the logger: a bad Trainer argument must fail before a logger
        # starts writing (W&B's service would go on writing into a folder removed below).
        trainer: Trainer = build(
            cfg.trainer,
            "trainer",
            callbacks=callbacks,
            logger=False,
            default_root_dir=str(run_dir),
            plugins=[AtomicCheckpointIO()],
        )
        checkpoint.dirpath = str(run_dir / CHECKPOINT_DIR)
        resume_step = None if ckpt_path is None else checkpoint_step(ckpt_path)
        logger: Logger | None = build(cfg.logger, "logger")(
            save_dir=str(run_dir), **({} if resume_step is None else {"resume_step": resume_step})
        )
        # Recorded before training, so even a run that fails shows what it was (W&B config,
        # TensorBoard hparams, the config files saved with the W&B run).
        if fresh and isinstance(logger, ConfigRecorder):
            logger.record_config(recorded, run_dir)
        trainer.loggers = [logger] if logger is not None else []
    except BaseException:
        if fresh:
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing half-written
        raise
    log.info("%s run folder: %s", "run" if fresh else f"resuming from {ckpt_path} in", run_dir)
    # DDP re-runs this command for ranks > 0 (Lightning's subprocess launcher); they
    # inherit the environment, and so find this run's folder and checkpoint here.
    os.environ[RUN_DIR_ENV] = str(run_dir)
    os.environ[CHECKPOINT_ENV] = str(ckpt_path or "")
    trainer.fit(optimization, ckpt_path=ckpt_path)
    return _final_metric(trainer, cfg.checkpoint.monitor)


def _skip_nvml_check_without_driver() -> None:
    """Undo Lightning's ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` where NVML cannot load.

    Importing Lightning sets it; without NVIDIA's driver, torch then tries (and fails) to
    load NVML in every ``torch.cuda.is_available()``, which ``Adam.step`` calls each step:
    about 0.15 ms a step on a CPU machine (benchmarks/README.md). With a driver it stays.
    """
    try:
        ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        os.environ.pop(NVML_CHECK_ENV, None)


def _spawned_rank() -> tuple[Path, Path | None] | None:
    """(run folder, checkpoint) when this process is a DDP rank > 0 started by rank 0."""
    if os.environ.get("LOCAL_RANK", "0") == "0" or not os.environ.get(RUN_DIR_ENV):
        return None
    checkpoint = os.environ.get(CHECKPOINT_ENV)
    return Path(os.environ[RUN_DIR_ENV]), Path(checkpoint) if checkpoint else None


def _callbacks(cfg: DictConfig, valid: ValidConfig, clock: TrainingClock) -> list[Callback]:
    callbacks: list[Callback] = [
        EvaluationCallback(
            name=str(name),
            evaluation=build(cfg.evaluation[name].evaluation, f"evaluation.{name}"),
            every=valid.evaluate_every[str(name)],
            clock=clock,
        )
        for name in cfg.evaluation
    ]
    if valid.train_for is not None:
        callbacks.append(TrainForCallback(valid.train_for, clock))
    for name in cfg.callbacks:
        callbacks.append(build(cfg.callbacks[name], f"callbacks.{name}"))
    return callbacks


def _checkpoint(cfg: DictConfig, every: Duration) -> ModelCheckpoint:
    monitor = cfg.checkpoint.monitor
    return ModelCheckpoint(
        every_n_train_steps=int(every.amount) if every.unit == GLOBAL_STEP else None,
        every_n_epochs=int(every.amount) if every.unit == EPOCH else None,
        train_time_interval=timedelta(seconds=every.seconds) if every.is_time else None,
        save_last=cfg.checkpoint.save_last,
        monitor=monitor,
        mode=cfg.checkpoint.mode,
        save_top_k=1 if monitor else 0,
        filename="best-{step}" if monitor else "step-{step}",
        auto_insert_metric_name=False,
    )


def _final_metric(trainer: Trainer, monitor: str | None) -> float | None:
    if monitor is None or monitor not in trainer.callback_metrics:
        return None
    return float(trainer.callback_metrics[monitor])
