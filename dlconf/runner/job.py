"""One run: seed, build, fit, in the run folder it was given.

How the folder was opened (a new run, a resume, a SLURM requeue, a DDP rank) is
:mod:`dlconf.runner.opening`'s business; here every run is the same. Order matters for
"nothing half-written": the optimization (model and data) is built first, the Trainer before
the logger; if any of them fails on a user's value, a new run folder is removed again.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import logging
import os
from collections.abc import Generator
from datetime import timedelta
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig

from dlconf.callbacks import EvaluationCallback, TrainForCallback, TrainingClock
from dlconf.callbacks.checkpoints import AtomicCheckpointIO, RunCheckpoint, SaveOnStop
from dlconf.callbacks.group import CallbackGroup
from dlconf.callbacks.sweep_trial import sweep_trial_callback
from dlconf.durations import EPOCH, GLOBAL_STEP
from dlconf.errors import LoggerStartError, NonFiniteLossError
from dlconf.internals import locate
from dlconf.loggers.base import ConfigRecorder
from dlconf.optimization.base import Optimization
from dlconf.runner.build import build
from dlconf.runner.non_finite import NonFiniteGuard, diverged
from dlconf.runner.opening import RunConfig
from dlconf.runner.run_folder import RunFolder
from dlconf.runner.signals import CtrlCAsSigterm

log = logging.getLogger(__name__)

NVML_CHECK_ENV = "PYTORCH_NVML_BASED_CUDA_CHECK"
PROGRESS_BAR_REFRESH_STEPS = 20
RUN_GROUP = "dlconf"
"""The group of dlconf's own callbacks (its checkpoint entry keeps this name)."""
ON_STOP_GROUP = "dlconf on stop"
"""The savers' group, apart only when an experiment brings callbacks of its own."""


def train(run: RunConfig, folder: RunFolder) -> float | None:
    """Train ``run`` in ``folder``; returns the final monitored metric (for sweepers)."""
    cfg, start = run.cfg, folder.resume_from
    _start_logger_early(cfg)  # W&B's service, while the model and data are built
    # Instantiating resolves interpolations in place (`${device.data_root}` becomes this
    # machine's path); what loggers record keeps the links, so it is taken from a copy.
    recorded = copy.deepcopy(cfg)
    seed_everything(cfg.seed, workers=True, verbose=False)
    _skip_nvml_check_without_driver()
    with _removed_on_failure(folder):
        optimization: Optimization = build(cfg.optimization, "optimization")
        schedule = _schedule(run)
        trainer = _trainer(run, folder, schedule)
        _check_evaluations(schedule, optimization)
        trainer.loggers = _loggers(cfg, folder, recorded)
    log.info("run folder: %s", folder.path)
    # The W&B run is created while training starts: one that cannot be, is a run that
    # never started, however many steps ran meanwhile.
    with _removed_on_failure(folder, LoggerStartError), _diverged_runs_stop(optimization, trainer):
        trainer.fit(optimization, ckpt_path=None if start is None else start.path)
    final = _final_metric(trainer, cfg.checkpoint.monitor)
    if final is not None and trainer.is_global_zero:
        # What a user looks for when the bar stops: the result, and where the run is.
        log.info(
            "%s = %.6g at step %d; run folder: %s",
            cfg.checkpoint.monitor,
            final,
            trainer.global_step,
            folder.path,
        )
    return final


@contextlib.contextmanager
def _removed_on_failure(
    folder: RunFolder, failure: type[BaseException] = BaseException
) -> Generator[None]:
    try:
        yield
    except failure:
        if folder.new:
            folder.remove()  # nothing half-written
        raise


@contextlib.contextmanager
def _diverged_runs_stop(optimization: Optimization, trainer: Trainer) -> Generator[None]:
    """A failed step that non-finite (or overflowing) weights caused is exit 3, naming them;
    a NaN loss with finite weights stays the optimization's own message."""
    try:
        yield
    except (ValueError, RuntimeError, NonFiniteLossError) as error:
        stop = diverged(error, optimization, trainer.global_step)
        if stop is None:
            raise
        raise stop from None


def _trainer(run: RunConfig, folder: RunFolder, schedule: list[Callback]) -> Trainer:
    # Built before the logger: a bad Trainer argument must fail before a logger starts
    # writing (W&B's service would go on writing into a folder that is removed).
    cfg = run.cfg
    checkpoint = _checkpoint(run, folder)
    users = [build(cfg.callbacks[name], f"callbacks.{name}") for name in cfg.callbacks]
    on_stop: list[Callback] = [
        NonFiniteGuard(),
        CtrlCAsSigterm(),
        SaveOnStop(checkpoint, folder.last_checkpoint),
    ]
    callbacks = [*_grouped(schedule, users, on_stop), checkpoint]
    if cfg.trainer.enable_progress_bar is not False:
        # Lightning's default redraws the bar twice a step, a measurable share of a small
        # model's step (benchmarks/README.md); a few redraws a second read the same.
        callbacks.append(_ProgressBar(refresh_rate=PROGRESS_BAR_REFRESH_STEPS))
    trainer: Trainer = build(
        cfg.trainer,
        "trainer",
        callbacks=callbacks,
        logger=False,
        default_root_dir=str(folder.path),
        plugins=[AtomicCheckpointIO()],
    )
    return trainer


def _grouped(
    schedule: list[Callback], users: list[Callback], on_stop: list[Callback]
) -> list[Callback]:
    """dlconf's callbacks as few as Lightning dispatches (each costs it on every hook call),
    in the order they run: the schedule, the experiment's own callbacks, then the savers."""
    if not users:
        return [CallbackGroup(RUN_GROUP, [*schedule, *on_stop])]
    return [CallbackGroup(RUN_GROUP, schedule), *users, CallbackGroup(ON_STOP_GROUP, on_stop)]


def _check_evaluations(schedule: list[Callback], optimization: Optimization) -> None:
    """An evaluation the model cannot serve (an ELBO of a classifier) fails now, not at
    the first evaluation with the run folder already written."""
    for callback in schedule:
        if isinstance(callback, EvaluationCallback):
            callback.evaluation.check_model(optimization.model, callback.name)


class _ProgressBar(TQDMProgressBar):
    """Lightning's bar without ``v_num`` (the logger's version: a folder name here)."""

    def get_metrics(
        self, trainer: Trainer, pl_module: LightningModule
    ) -> dict[str, int | str | float | dict[str, float]]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics


def _start_logger_early(cfg: DictConfig) -> None:
    """Start what the logger may start before the run is built.

    A logger class offers it as ``start_early()`` (W&B: its import and service process,
    about a second); the logger waits for it itself. What can fail on a user's value is
    built meanwhile; the logger, and with it the W&B run, only afterwards. Rank zero alone
    logs, so alone starts one.
    """
    target = cfg.logger.get("_target_") if isinstance(cfg.logger, DictConfig) else None
    if not isinstance(target, str) or getattr(rank_zero_only, "rank", 0) != 0:
        return
    try:
        start = getattr(locate(target), "start_early", None)
    except (ImportError, ValueError, AttributeError):
        return  # building the logger reports it, after the user's values are checked
    if callable(start):
        start()


def _loggers(cfg: DictConfig, folder: RunFolder, recorded: DictConfig) -> list[Logger]:
    start = folder.resume_from
    # The runs of a multirun or sweep share run.name: the W&B name adds what tells them apart.
    named = {"name": folder.display_name(str(cfg.logger.name))} if "name" in cfg.logger else {}
    logger: Logger | None = build(cfg.logger, "logger", **named)(
        save_dir=str(folder.path),
        resume_step=None if start is None else start.step,
        run_id=folder.run_id,
    )
    # Recorded before training, so even a run that fails shows what it was (W&B config,
    # TensorBoard hparams, the config files saved with the W&B run).
    if folder.new and isinstance(logger, ConfigRecorder):
        logger.record_config(recorded, folder.path)
    return [] if logger is None else [logger]


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


def _schedule(run: RunConfig) -> list[Callback]:
    """The evaluations at their rhythm and ``train_for``, on one training clock; in a local
    sweep's trial, the check whether to stop early."""
    cfg, valid = run.cfg, run.valid
    clock = TrainingClock()
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
    trial = sweep_trial_callback()  # after the evaluations: it reads what they logged
    if trial is not None:
        callbacks.append(trial)
    return callbacks


def _checkpoint(run: RunConfig, folder: RunFolder) -> ModelCheckpoint:
    monitor, every = run.cfg.checkpoint.monitor, run.valid.checkpoint_every
    return RunCheckpoint(
        dirpath=folder.checkpoint_dir,
        every_n_train_steps=int(every.amount) if every.unit == GLOBAL_STEP else None,
        every_n_epochs=int(every.amount) if every.unit == EPOCH else None,
        train_time_interval=timedelta(seconds=every.seconds) if every.is_time else None,
        save_last=run.cfg.checkpoint.save_last,
        monitor=monitor,
        mode=run.cfg.checkpoint.mode,
        save_top_k=1 if monitor else 0,
        filename=RunFolder.BEST_FILENAME if monitor else RunFolder.STEP_FILENAME,
        auto_insert_metric_name=False,
    )


def _final_metric(trainer: Trainer, monitor: Any) -> float | None:
    if monitor is None or monitor not in trainer.callback_metrics:
        return None
    return float(trainer.callback_metrics[monitor])
