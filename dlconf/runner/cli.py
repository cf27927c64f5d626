"""``python -m experiments.<name> [overrides]``: check the command line, then run Hydra.

``resume=<run folder>`` (or ``resume=last``) continues a recorded run instead; see
:mod:`dlconf.runner.resume`.

Every override is composed and validated before Hydra starts (for ``-m``, every job of the
sweep), so a typo costs a second and leaves nothing behind: the program prints one line
naming the problem and exits with code 2. Then Hydra runs the job(s) as usual: its override
grammar, ``-m`` multirun and launchers, ``--cfg job``, ``--help``.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any, NoReturn

import hydra
from hydra import compose, initialize
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException, OverrideParseException
from omegaconf import DictConfig

from dlconf.errors import ConfigError, DlconfError
from dlconf.experiment import Experiment
from dlconf.runner.completion import answer_completion
from dlconf.runner.hydra_errors import explain
from dlconf.runner.overrides import parse_command_line
from dlconf.runner.quiet import quiet_libraries
from dlconf.runner.resume import (
    LATEST,
    is_device_override,
    latest_run,
    resumed_config,
    split_resume,
)
from dlconf.runner.store import store_experiment
from dlconf.runner.validate import validate

DEVICES_PACKAGE = "devices"
"""The top-level package whose import registers this project's devices."""

log = logging.getLogger(__name__)


def main(experiment: Experiment[Any]) -> None:
    """Run ``experiment`` from the command line (``sys.argv``)."""
    if answer_completion(sys.argv[1:]):
        return
    quiet_libraries()
    try:
        # A sweep agent's command line is built from what a server sends: such a run takes
        # only plain values of the sweep's parameters. (Imported here: dlconf.sweeps
        # imports this module.)
        from dlconf.sweeps.agent_guard import check_agent_command_line

        check_agent_command_line(sys.argv[1:])
        _import_devices()
        config_name = store_experiment(experiment)
        args = parse_command_line(sys.argv)  # dlconf.runner.overrides: flags, +, _target_
        resume, overrides = split_resume(list(args.overrides))
        if resume is not None:
            _resume(config_name, resume, overrides, multirun=bool(args.multirun))
            return
        if not (args.help or args.hydra_help or args.shell_completion or args.info):
            check_command_line(config_name, overrides, multirun=bool(args.multirun))
    except DlconfError as error:
        exit_with(error)
    from dlconf.runner.job import run_job

    hydra.main(config_path=None, config_name=config_name, version_base="1.3")(run_job)()


def check_command_line(config_name: str, overrides: list[str], *, multirun: bool) -> None:
    """Compose and validate every job ``overrides`` describes; raise :class:`ConfigError`."""
    jobs = _jobs(overrides, multirun)
    with initialize(version_base="1.3", config_path=None):
        for job in jobs:
            validate(compose_or_explain(config_name, job))


def compose_or_explain(config_name: str, overrides: list[str]) -> DictConfig:
    try:
        return compose(config_name, overrides=overrides)
    except HydraException as error:
        raise explain(error, overrides, lambda: compose(config_name)) from None


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
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def _resume(config_name: str, resume: str, overrides: list[str], *, multirun: bool) -> None:
    if multirun:
        raise ConfigError("resume continues one run: drop -m")
    # The device is this machine's, not the run's: a requeued job may land elsewhere.
    device_overrides = [o for o in overrides if is_device_override(o)]
    with initialize(version_base="1.3", config_path=None):
        current = compose_or_explain(config_name, device_overrides)
    if resume == LATEST:
        root = Path(current.device.experiments_root)
        folder = latest_run(root, current.run.project, current.run.name)
    else:
        folder = Path(resume).expanduser()
    cfg = resumed_config(folder, [o for o in overrides if not is_device_override(o)])
    cfg.device = current.device
    validate(cfg)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s] %(message)s")
    from dlconf.runner.job import resume_job

    resume_job(cfg, folder)


def _import_devices() -> None:
    try:
        importlib.import_module(DEVICES_PACKAGE)
    except ModuleNotFoundError as error:
        if error.name != DEVICES_PACKAGE:
            raise
        log.debug("no %s package: only the embedded default device exists", DEVICES_PACKAGE)


def exit_with(error: DlconfError) -> NoReturn:
    """Print ``error`` as the user should read it and exit with its code (2: bad input)."""
    sys.stderr.write(f"error: {error}\n")
    sys.exit(error.exit_code)
