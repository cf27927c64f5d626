"""``python -m experiments.<name> [overrides]``: one way into a run.

``main()`` takes every run the same way: the agent guard checks the user's overrides, the
config is composed and validated once, the run folder is opened, and
:func:`~dlconf.runner.job.train` trains in it. Runs differ only in how the folder opens
(:mod:`dlconf.runner.opening`):

- a new run makes one (or, when SLURM restarted this job, continues the one it made);
- ``resume=<run folder>`` / ``resume=last`` continues a recorded run (:mod:`.resume`);
- a DDP rank > 0 that Lightning started learns rank 0's folder from the Hydra run dir
  Lightning passes on (:mod:`.ddp`); a task of rank > 0 under ``srun`` finds task 0's.

A mistake ends the program with one line and exit code 2, before anything is written.
Hydra itself runs what is Hydra's: ``-m`` multiruns (each job is a new run, through the same
:func:`train`), ``--cfg job``, ``--help``, ``--info``, shell completion.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import shlex
import signal
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra import compose
from hydra._internal.core_plugins import basic_sweeper
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.plugins import Plugins
from hydra.core.utils import configure_log
from hydra.errors import HydraException, OverrideParseException
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf, open_dict

from dlconf.errors import ConfigError, DlconfError, exit_with
from dlconf.experiment import Experiment
from dlconf.internals import split_sweep
from dlconf.runner import answer_cache, slurm
from dlconf.runner.agent_guard import check_agent_command_line
from dlconf.runner.completion import answer_completion
from dlconf.runner.ddp import lightning_rank
from dlconf.runner.hydra_errors import explain, key_tree
from dlconf.runner.hydra_init import initialized
from dlconf.runner.job import train
from dlconf.runner.opening import RunConfig, new_run, rank_run, resumed_run, srun_rank_run
from dlconf.runner.overrides import parse_command_line
from dlconf.runner.quiet import quiet_libraries
from dlconf.runner.record import rerun_command
from dlconf.runner.resume import (
    LATEST,
    device_overrides,
    is_device_override,
    resumed_config,
    split_resume,
)
from dlconf.runner.run_folder import RunFolder
from dlconf.runner.run_label import hand_down_swept_keys
from dlconf.runner.signals import stop_signal
from dlconf.runner.store import GROUPS, store_experiment

DEVICES_PACKAGE = "devices"
"""The top-level package whose import registers this project's devices."""
PRINTING_FLAGS = ("help", "hydra_help", "info", "shell_completion")
"""Flags with which Hydra prints and runs nothing: no config to check."""
HYDRA_FLAGS = ("multirun", "cfg", *PRINTING_FLAGS)
"""Command-line flags that Hydra's own app handles."""

log = logging.getLogger(__name__)


def main(experiment: Experiment[Any]) -> None:
    """Run ``experiment`` from the command line (``sys.argv``)."""
    if answer_completion(sys.argv[1:]):
        return
    quiet_libraries()
    rank = lightning_rank(sys.argv[1:])
    # A sweep agent's command line comes from a server: it may hold only plain values of
    # the sweep's parameters. What Lightning appends for its ranks is not the user's.
    args = sys.argv[1:] if rank is None else rank.args
    try:
        check_agent_command_line(args)
        _import_devices()
        if "--explain" in args:  # where each value comes from; prints, runs nothing
            from dlconf.runner.provenance import explain_command_line

            config_name = store_experiment(experiment, with_help=False)
            sys.stdout.write(
                explain_command_line(config_name, [a for a in args if a != "--explain"])
            )
            return
        argv = [sys.argv[0], *args]
        parsed = parse_command_line(argv)  # dlconf.runner.overrides: flags, +, _target_
        config_name = store_experiment(experiment, with_help=bool(parsed.help))
        resume, overrides = split_resume(list(parsed.overrides))
        if any(getattr(parsed, flag) for flag in HYDRA_FLAGS):
            if resume is not None:
                raise ConfigError("resume continues one run: drop -m (and --cfg, --help, --info)")
            checked = not any(getattr(parsed, flag) for flag in PRINTING_FLAGS)
            if checked:
                check_command_line(config_name, overrides, multirun=bool(parsed.multirun))
            if parsed.multirun:
                hand_down_swept_keys(overrides)  # for each job's folder name
            sys.argv[1:] = argv[1:]  # in the order Hydra's own parser reads
            app = hydra.main(config_path=None, config_name=config_name, version_base="1.3")
            if parsed.help:
                answer_cache.printing_help(app(_hydra_job))  # the next --help is instant
            else:
                with _jobs_checked_once() if checked else contextlib.nullcontext():
                    app(_hydra_job)()
            return
        with initialized(__file__):
            if resume is None:
                recorded, run, hydra_node = None, *_compose_new(config_name, overrides)
            else:
                recorded, run, hydra_node = _compose_resumed(config_name, resume, overrides)
        configure_log(hydra_node.job_logging, hydra_node.verbose)  # Hydra's job logging
        if rank is not None:
            folder = rank_run(RunFolder.open(rank.run_dir, given_as="hydra.run.dir"))
        elif recorded is not None:
            folder = resumed_run(recorded, args)
        elif (task := slurm.task_rank()) is not None and task > 0:
            folder = srun_rank_run(run, args, task)
        else:
            folder = new_run(run, args)
        _as_hydra_run(hydra_node, folder)
        _train_reporting(run, folder)
    except DlconfError as error:
        exit_with(error)


def check_command_line(config_name: str, overrides: list[str], *, multirun: bool) -> None:
    """Compose and validate every job ``overrides`` describes; raise :class:`ConfigError`."""
    jobs = _jobs(overrides, multirun)
    with initialized(__file__):
        for job in jobs:
            RunConfig.check(compose_or_explain(config_name, job))


def compose_or_explain(
    config_name: str, overrides: list[str], *, with_hydra: bool = False
) -> DictConfig:
    try:
        return compose(config_name, overrides=overrides, return_hydra_config=with_hydra)
    except HydraException as error:
        raise explain(error, overrides, lambda: _base_config(config_name)) from None


@contextlib.contextmanager
def _jobs_checked_once() -> Generator[None]:
    """Hydra's basic sweeper without its own check that every job composes.

    Before launching, it composes each job once more only to see that it can
    (``validate_batch_is_legal``); :func:`check_command_line` has composed and validated
    every job already, so a multirun of M jobs composes 2 + 2M times, not 2 + 3M. Another
    sweeper (``hydra/sweeper=...``) keeps its own check.
    """
    # Hydra's scan of its plugins runs their modules again (once per process), which makes
    # a new class: the one to change is the one there after the scan.
    Plugins.instance()
    sweeper = basic_sweeper.BasicSweeper
    original = sweeper.validate_batch_is_legal
    setattr(sweeper, "validate_batch_is_legal", _checked_already)  # noqa: B010
    try:
        yield
    finally:
        setattr(sweeper, "validate_batch_is_legal", original)  # noqa: B010


def _checked_already(sweeper: basic_sweeper.BasicSweeper, batch: Sequence[Sequence[str]]) -> None:
    del sweeper, batch


def _base_config(config_name: str) -> DictConfig:
    """The config without overrides, which says what keys exist; kept for the next typo."""
    base = compose(config_name)
    answer_cache.remember_keys(key_tree(base), GROUPS)
    return base


def _jobs(overrides: list[str], multirun: bool) -> list[list[str]]:
    parser = OverridesParser.create()
    parsed: list[Override] = []
    for override in overrides:
        try:
            parsed += parser.parse_overrides([override])
        except OverrideParseException as error:
            first = str(error).strip().splitlines()[0]
            raise ConfigError(f"cannot parse the override {override!r}: {first}") from None
    sweeps = [o.input_line for o in parsed if o.is_sweep_override()]
    if not multirun:
        if sweeps:
            raise ConfigError(
                f"{sweeps[0]!r} gives several values: add -m to run one job per value"
            )
        return [overrides]
    return split_sweep(parsed)


def _compose_new(config_name: str, overrides: list[str]) -> tuple[RunConfig, DictConfig]:
    (job,) = _jobs(overrides, multirun=False)
    cfg, hydra_node = _without_hydra(compose_or_explain(config_name, job, with_hydra=True))
    return RunConfig.check(cfg), hydra_node


def _compose_resumed(
    config_name: str, resume: str, overrides: list[str]
) -> tuple[RunFolder, RunConfig, DictConfig]:
    """The recorded run, its config as it continues here, and Hydra's node of this machine."""
    new_devices = [o for o in overrides if is_device_override(o)]
    here: DictConfig | None = None
    if resume == LATEST:
        # The newest run under *this* machine's experiments_root.
        here = compose_or_explain(config_name, new_devices, with_hydra=True)
        folder = RunFolder.latest(
            Path(here.device.experiments_root), str(here.run.project), str(here.run.name)
        )
    else:
        folder = RunFolder.open(Path(resume))
    devices = device_overrides(folder, overrides)
    if here is None or devices != new_devices:
        here = compose_or_explain(config_name, devices, with_hydra=True)
    machine, hydra_node = _without_hydra(here)
    cfg = resumed_config(folder, overrides, machine.device)
    return folder, RunConfig.check(cfg), hydra_node


def _without_hydra(cfg: DictConfig) -> tuple[DictConfig, DictConfig]:
    hydra_node = cfg.hydra
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, hydra_node


def _as_hydra_run(hydra_node: DictConfig, folder: RunFolder) -> None:
    """Run as Hydra would run this job, with the run folder as Hydra's run dir.

    Lightning hands that dir to the DDP ranks it starts (``hydra.run.dir=...``), so they
    find the folder without a protocol of dlconf's own; ``${hydra:...}`` resolves as under
    ``hydra.main``.
    """
    hydra_node.run.dir = str(folder.path)
    HydraConfig.instance().set_config(OmegaConf.create({"hydra": hydra_node}))


def _train_reporting(run: RunConfig, folder: RunFolder) -> None:
    """Train; a stop by signal says how to continue and exits with 128 + the signal."""
    try:
        train(run, folder)
    except SIGTERMException:
        # Lightning stopped after the current step and SaveOnStop saved last.ckpt; a
        # non-zero status tells a scheduler (or a shell) the run is not finished.
        signum = stop_signal()
        what = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        again = shlex.join(rerun_command([f"resume={folder.path}"]))
        sys.stderr.write(f"stopped by {what}; the checkpoint is saved: continue with {again}\n")
        sys.exit(128 + signum)
    except KeyboardInterrupt:
        # Before training started (Ctrl-C during loading): nothing to continue.
        sys.stderr.write("stopped by Ctrl-C before training started; nothing was saved\n")
        sys.exit(128 + signal.SIGINT)


def _hydra_job(cfg: DictConfig) -> float | None:
    """Hydra's task function, for each job of a multirun: a new run, through :func:`train`."""
    try:
        run = RunConfig.check(cfg)
        hydra = HydraConfig.get()
        folder = new_run(run, list(hydra.overrides.task), job_number=hydra.job.num)
        return train(run, folder)
    except DlconfError as error:
        exit_with(error)


def _import_devices() -> None:
    try:
        importlib.import_module(DEVICES_PACKAGE)
    except ModuleNotFoundError as error:
        if error.name != DEVICES_PACKAGE:
            raise
        log.debug("no %s package: only the embedded default device exists", DEVICES_PACKAGE)
