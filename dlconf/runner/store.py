"""Turns an :class:`~dlconf.experiment.Experiment` into Hydra configs in the ConfigStore.

The primary config (named after the experiment) holds the experiment's own keys; ``data``,
``device`` and ``logger`` are config groups filled from the defaults list, so
``data=synthetic``, ``device=laptop`` and ``logger=tensorboard`` select whole options.
Everything stored is a structured config: overrides are checked against field types.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional, cast

from hydra.core.config_store import ConfigStore
from hydra_zen import ZenField, builds, make_config
from hydra_zen.errors import HydraZenException
from lightning.pytorch import Trainer
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dlconf.devices import Device, registered_devices, selected_device_name
from dlconf.errors import ConfigError
from dlconf.experiment import Experiment
from dlconf.runner.help import help_template
from dlconf.runner.loggers import LOGGER_OPTIONS, default_logger
from dlconf.runner.schema import storable, value_problems

TrainerConf = builds(
    Trainer,
    populate_full_signature=True,
    # Built by the runner itself: loggers and callbacks need the run folder.
    # The hardware arguments come from the device, so one experiment runs unchanged on any
    # machine; `trainer.devices=2` still overrides them for one run.
    zen_exclude=("logger", "callbacks", "default_root_dir"),
    # train_for (a callback) decides when to stop; Lightning's 1000-epoch default would
    # silently cut long runs short.
    max_epochs=-1,
    # The summary is a screenful before every run; `trainer.enable_model_summary=true` shows it.
    enable_model_summary=False,
    accelerator="${device.accelerator}",
    devices="${device.devices}",
    strategy="${device.strategy}",
    num_nodes="${device.num_nodes}",
    precision="${device.precision}",
)

# Hydra writes nothing on its own in the working directory: the runner creates each run
# folder (unique, under device.experiments_root) once the config is valid and the data is
# found. A multirun's record of its sweep (multirun.yaml) goes under experiments_root too.
HYDRA_SETTINGS: dict[str, Any] = {
    "run": {"dir": "."},
    "sweep": {
        "dir": "${device.experiments_root}/multirun/${now:%Y-%m-%d_%H-%M-%S}",
        "subdir": ".",
    },
    "output_subdir": None,
    "job": {"chdir": False},
}


HELP_LEFT_OUT = "(run with --help for this experiment's keys)"
"""``hydra.help.template`` of a config stored for a run: a run never prints it."""
GROUPS = ("data", "device", "logger")
"""The config groups stored below: ``data=synthetic`` chooses a whole ``data`` node."""


def store_experiment(experiment: Experiment[Any, Any], *, with_help: bool = True) -> str:
    """Store ``experiment`` and its groups; returns the primary config's name.

    ``with_help=False`` leaves out the ``--help`` text: reading every field's docstring
    from its source costs a run ~0.05 s that only ``--help`` needs.
    """
    _check_experiment(experiment)
    try:
        store = ConfigStore.instance()
        for name, splits in experiment.data.items():
            store.store(group="data", name=name, node=dict(splits))
        for name, device in registered_devices().items():
            store.store(group="device", name=name, node=device_node(device))
        for name, logger in LOGGER_OPTIONS.items():
            store.store(group="logger", name=name, node=logger)
        store.store(name=experiment.name, node=primary_config(experiment, with_help))
    except (OmegaConfBaseException, HydraZenException) as error:
        # A value no config can hold (an object built in the module, a lambda...).
        first = str(error).strip().splitlines()[0]
        raise ConfigError(f"experiment {experiment.name!r} cannot be stored: {first}") from None
    return experiment.name


def primary_config(experiment: Experiment[Any, Any], with_help: bool = True) -> Any:
    template = help_template(experiment) if with_help else HELP_LEFT_OUT
    hydra = dict(HYDRA_SETTINGS, help={"app_name": experiment.name, "template": template})
    return make_config(
        defaults=[
            "_self_",
            {"data": experiment.default_data},
            {"device": selected_device_name()},
            {"logger": default_logger()},
            {"override hydra/job_logging": "stdout"},
        ],
        seed=ZenField(hint=int, default=experiment.seed),
        run=storable(experiment.run),
        params=storable(experiment.params),
        eval_params=storable(experiment.eval_params),
        train_for=ZenField(
            hint=Optional[str],  # noqa: UP045
            default=None if experiment.train_for is None else str(experiment.train_for),
        ),
        data=None,
        device=None,
        logger=None,
        optimization=experiment.optimization,
        evaluation=_evaluation_node(experiment),
        checkpoint=storable(experiment.checkpoint.stored()),
        trainer=_trainer_node(experiment.trainer),
        callbacks=cast(Any, dict(experiment.callbacks)),
        hydra=hydra,
    )


def _evaluation_node(experiment: Experiment[Any, Any]) -> Any:
    return {
        evaluate.name: {"every": str(evaluate.every), "evaluation": evaluate.evaluation}
        for evaluate in experiment.evaluation
    }


def _trainer_node(trainer: Any) -> Any:
    if trainer is None:
        return TrainerConf()
    # `conf(Trainer)(max_epochs=5)` carries Lightning's defaults for every other argument;
    # keep only what the experiment changed, so device links and dlconf defaults stand.
    lightning_defaults = {f.name: f.default for f in dataclasses.fields(trainer)}
    ours = {f.name for f in dataclasses.fields(TrainerConf)}
    given = cast(dict[str, Any], vars(trainer))
    changed = {
        name: value
        for name, value in given.items()
        if name in ours and name != "_target_" and value != lightning_defaults[name]
    }
    return TrainerConf(**changed)


def device_node(device: Device) -> DictConfig:
    """``device`` as a typed config node that the command line can change."""
    # Devices are frozen dataclasses (a device never changes during a run), but OmegaConf
    # would then refuse `device.num_workers=0` on the command line; the node stays typed.
    node: DictConfig = OmegaConf.structured(storable(device))
    OmegaConf.set_readonly(node, False)
    return node


def _check_experiment(experiment: Experiment[Any, Any]) -> None:
    # Values OmegaConf would coerce (`z_dim="64"`, `save_last="yes"`) or that no type
    # checker saw (an experiment without annotations in its editor).
    problems = [
        *value_problems(experiment.params, "params"),
        *value_problems(experiment.eval_params, "eval_params"),
        *value_problems(experiment.run, "run"),
        *value_problems(experiment.checkpoint, "checkpoint"),
    ]
    for name, device in registered_devices().items():
        problems += [
            p.replace("device.", f"device {name!r}: ", 1) for p in value_problems(device, "device")
        ]
    if problems:
        raise ConfigError("\n".join(problems))
