"""Checks a sweep against its experiment before anything is created, and reports every mistake.

- every parameter is a key of the composed experiment, of a type its distribution fits, and
  an agent may set it (see :mod:`dlconf.runner.agent_guard`);
- each representative value (bounds and middle, every listed value) passes the
  experiment's own command-line check as the override an agent would pass, so a
  ``params.batch_size=0`` that ``__post_init__`` refuses is found now, not in run 37;
- the metric is one the experiment logs (see :mod:`dlconf.evaluation.logged`);
- W&B's own validator accepts the sweep config.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode

from dlconf.errors import ConfigError
from dlconf.evaluation.logged import logged_scalars
from dlconf.runner.agent_guard import override_problem
from dlconf.runner.cli import _import_devices, check_command_line, compose_or_explain
from dlconf.runner.hydra_init import initialized
from dlconf.runner.store import store_experiment
from dlconf.sweeps.definition import Parameter, Sweep
from dlconf.sweeps.distributions import Constant
from dlconf.sweeps.engine import schema_violations


def check_sweep(sweep: Sweep, base_overrides: Sequence[str] = ()) -> DictConfig:
    """Raise one :class:`ConfigError` listing every problem of ``sweep``; else its
    experiment's config, composed with ``base_overrides``.

    ``base_overrides`` are applied under every check (``data=synthetic`` for a local sweep).
    """
    _import_devices()
    config_name = store_experiment(sweep.experiment)
    base = list(base_overrides)
    check_command_line(config_name, base, multirun=False)
    with initialized(__file__):
        cfg = compose_or_explain(config_name, base)
    problems: list[str] = []
    if not sweep.parameters:
        problems.append(f"sweep {sweep.sweep_name!r} varies no parameter")
    for parameter in sweep.all_parameters:
        problems += _parameter_problems(parameter, cfg, config_name, base)
    scalars = logged_scalars(cfg)
    if sweep.metric.name not in scalars:
        problems.append(scalars.unknown(sweep.metric.name, sweep.experiment.name))
    if not problems:  # W&B's validator would repeat what is already reported above
        violations = dict.fromkeys(schema_violations(sweep.to_wandb()))  # it repeats some too
        problems += [f"W&B refuses the sweep config: {v}" for v in violations]
    if problems:
        raise ConfigError("\n".join(problems))
    return cfg


def _parameter_problems(
    parameter: Parameter, cfg: DictConfig, config_name: str, base: list[str]
) -> list[str]:
    key, distribution = parameter.key, parameter.distribution
    name = type(distribution).__name__
    field_type = _field_type(cfg, key)
    if field_type == "int" and distribution.kind == "float":
        return [
            f"{key} is an int, but {name} samples floats (W&B would send "
            f"{parameter.override(distribution.representatives()[1])}): use IntUniform or Values"
        ]
    problems: list[str] = []
    for value in distribution.representatives():
        override = parameter.override(value)
        refused = override_problem(override)
        if refused is not None:
            return [f"{key}: an agent would refuse it: {refused}"]
        try:
            check_command_line(config_name, [*base, override], multirun=False)
        except ConfigError as error:
            where = key if isinstance(distribution, Constant) else f"{key} ({name})"
            problems.append(f"{where}: {error}")
            break  # one bad value says enough; the others usually fail the same way
    return problems


def _field_type(cfg: DictConfig, key: str) -> str | None:
    """``"int"``, ``"float"``... for a typed field; None for untyped or missing keys."""
    node: Any = cfg
    for part in key.split("."):
        if not isinstance(node, DictConfig) or part not in node:
            return None
        node = node._get_node(part)
    kinds = {IntegerNode: "int", FloatNode: "float", BooleanNode: "bool", StringNode: "str"}
    return next((kind for cls, kind in kinds.items() if isinstance(node, cls)), None)
