"""dlconf: deep-learning experiments as typed Python.

An experiment is a module that builds an :class:`Experiment` from typed component configs
(:func:`conf`) whose hyper-parameters are typed links (:func:`link`) into its
:class:`HyperParams` and :class:`EvalSettings`, and ends with ``main(experiment)``;
``python -m experiments.<name> params.beta=0.1`` runs it.
"""

from dlconf.brief_errors import report_user_errors_briefly
from dlconf.configs import conf, link, ref
from dlconf.data import DATA, TEST, TRAIN, VALID, Batch, DataSplits, Sample, Split
from dlconf.devices import Device, register_device
from dlconf.durations import (
    CheckpointEvery,
    Duration,
    counted,
    days,
    epochs,
    global_steps,
    hours,
    iterations,
    minutes,
    seconds,
)
from dlconf.errors import (
    ConfigError,
    DatasetNotFoundError,
    DlconfError,
    DurationError,
    NonFiniteLossError,
    UnknownDeviceError,
)
from dlconf.experiment import Checkpoint, Evaluate, Experiment, Metric, Run, train_loss
from dlconf.reload import load_run
from dlconf.runner.cli import main
from dlconf.settings import EvalSettings, HyperParams, NoEvalSettings

report_user_errors_briefly()

__all__ = [
    "DATA",
    "TEST",
    "TRAIN",
    "VALID",
    "Batch",
    "Checkpoint",
    "CheckpointEvery",
    "ConfigError",
    "DataSplits",
    "DatasetNotFoundError",
    "Device",
    "DlconfError",
    "Duration",
    "DurationError",
    "EvalSettings",
    "Evaluate",
    "Experiment",
    "HyperParams",
    "Metric",
    "NoEvalSettings",
    "NonFiniteLossError",
    "Run",
    "Sample",
    "Split",
    "UnknownDeviceError",
    "conf",
    "counted",
    "days",
    "epochs",
    "global_steps",
    "hours",
    "iterations",
    "link",
    "load_run",
    "main",
    "minutes",
    "ref",
    "register_device",
    "seconds",
    "train_loss",
]
