"""One run: validate, seed, build, create the run folder, fit.

Order matters for "nothing half-written": everything that can fail because of the user's
input (config values, constructor arguments, a missing data set, Trainer arguments) is
built before the run folder exists. A failure there exits with code 2 and one message.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from hydra.errors import InstantiationException
from hydra_zen import instantiate
from hydra_zen.third_party.pydantic import pydantic_parser
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig

from dlconf.callbacks import EvaluationCallback, TrainForCallback, TrainingClock
from dlconf.errors import ConfigError, DlconfError
from dlconf.optimization.base import Optimization
from dlconf.runner.cli import exit_with
from dlconf.runner.run_folder import create_run_folder, save_config
from dlconf.runner.validate import ValidConfig, validate

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"


def run_job(cfg: DictConfig) -> float | None:
    """Hydra's task function; returns the final monitored metric for sweepers."""
    try:
        return train(cfg)
    except DlconfError as error:
        exit_with(error)


def build(node: Any, where: str, **kwargs: Any) -> Any:
    """Instantiate ``node``, checking constructor annotations; user errors become ConfigError."""
    try:
        return instantiate(node, _convert_="all", _target_wrapper_=pydantic_parser, **kwargs)
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, DlconfError):
            raise cause from None
        if isinstance(cause, ValueError | TypeError):  # pydantic's ValidationError is one
            raise ConfigError(f"{where}: {_short(cause)}") from None
        raise


def train(cfg: DictConfig) -> float | None:
    valid = validate(cfg)
    seed_everything(cfg.seed, workers=True, verbose=False)
    optimization: Optimization = build(cfg.optimization, "optimization")
    clock = TrainingClock()
    checkpoint = _checkpoint(cfg)
    # Built before the run folder exists, so a bad Trainer argument writes nothing; the
    # logger and the checkpoint folder are attached once the folder is there.
    trainer: Trainer = build(
        cfg.trainer, "trainer", callbacks=[*_callbacks(cfg, valid, clock), checkpoint], logger=False
    )
    experiments_root = Path(cfg.device.experiments_root).expanduser()
    run_dir = create_run_folder(experiments_root, cfg.run.project, cfg.run.name)
    try:
        save_config(run_dir, cfg)
        logger = build(cfg.logger, "logger")(save_dir=str(run_dir))
        trainer.loggers = [logger] if logger is not None else []
        checkpoint.dirpath = str(run_dir / CHECKPOINT_DIR)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)  # nothing half-written
        raise
    log.info("run folder: %s", run_dir)
    trainer.fit(optimization)
    return _final_metric(trainer, cfg.checkpoint.monitor)


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


def _checkpoint(cfg: DictConfig) -> ModelCheckpoint:
    monitor = cfg.checkpoint.monitor
    return ModelCheckpoint(
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


def _short(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return " ".join(lines[:3])
