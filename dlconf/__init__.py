"""dlconf: deep-learning experiments as typed Python.

An experiment is a module that builds an :class:`Experiment` from typed component configs
(:func:`conf`) whose hyper-parameters are typed links (:func:`link`), and ends with
``main(experiment)``; ``python -m experiments.<name> params.beta=0.1`` runs it.
"""

from dlconf.configs import conf, link, ref
from dlconf.data import DATA, Batch, DataSplits, Sample
from dlconf.devices import Device, register_device
from dlconf.errors import (
    ConfigError,
    DatasetNotFoundError,
    DlconfError,
    DurationError,
    NonFiniteLossError,
    UnknownDeviceError,
)
from dlconf.experiment import Checkpoint, Evaluate, Experiment, Run
from dlconf.reload import load_run
from dlconf.runner.cli import main

__all__ = [
    "DATA",
    "Batch",
    "Checkpoint",
    "ConfigError",
    "DataSplits",
    "DatasetNotFoundError",
    "Device",
    "DlconfError",
    "DurationError",
    "Evaluate",
    "Experiment",
    "NonFiniteLossError",
    "Run",
    "Sample",
    "UnknownDeviceError",
    "conf",
    "link",
    "load_run",
    "main",
    "ref",
    "register_device",
]
