"""Typed W&B sweeps: define one in Python, check it, create it, or run it here.

A sweep module in ``sweeps/`` builds a :class:`Sweep` over an experiment, with parameters
named through the experiment's typed links (``vary(p.beta).over(LogUniform(-20, 2))``),
and ends with ``main(sweep)``: ``python -m sweeps.<name>`` checks it against the experiment
and creates it on W&B, ``--yaml`` prints it for ``wandb sweep``, ``--local N`` runs N trials
on this machine with W&B's own search engine (``--resume`` continues one, ``--jobs K``
runs K trials at once, ``early_terminate=Hyperband(...)`` stops trials that fall behind).
"""

from dlconf.sweeps.cli import main
from dlconf.sweeps.definition import Parameter, Sweep, vary
from dlconf.sweeps.distributions import (
    Beta,
    Constant,
    Distribution,
    IntUniform,
    InvLogUniformValues,
    LogNormal,
    LogUniform,
    LogUniformValues,
    Normal,
    QLogUniformValues,
    QNormal,
    QUniform,
    Uniform,
    Values,
)
from dlconf.sweeps.early_stop import Hyperband

__all__ = [
    "Beta",
    "Constant",
    "Distribution",
    "Hyperband",
    "IntUniform",
    "InvLogUniformValues",
    "LogNormal",
    "LogUniform",
    "LogUniformValues",
    "Normal",
    "Parameter",
    "QLogUniformValues",
    "QNormal",
    "QUniform",
    "Sweep",
    "Uniform",
    "Values",
    "main",
    "vary",
]
