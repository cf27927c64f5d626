"""Checks a composed config before anything is built, and reports every mistake at once.

OmegaConf already refused unknown keys and values of the wrong type while composing; this
closes what it cannot see: dataclass ``__post_init__`` range checks (``params.batch_size=0``),
duration strings, interpolations that point nowhere, and a run that nothing would stop.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dlconf.durations import Duration, parse_duration
from dlconf.errors import ConfigError, DlconfError, DurationError
from dlconf.evaluation.logged import logged_scalars
from dlconf.internals import locate
from dlconf.optimization.base import Optimization
from dlconf.runner.links import link_type_problems
from dlconf.runner.schema import field_problems

_LINK = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")
"""A plain link to another key, ``${eval_params.elbo.every}`` (no resolver, no text around)."""

TYPED_SECTIONS = ("params", "eval_params", "device", "checkpoint", "run")
HYPER_PARAMETER_SECTIONS = ("params", "eval_params")
"""Where an experiment's links point: a duration linked there is reported there."""


@dataclasses.dataclass(frozen=True)
class ValidConfig:
    """What validation learnt and the runner needs: the parsed durations."""

    train_for: Duration | None
    evaluate_every: dict[str, Duration]
    checkpoint_every: Duration


def validate(cfg: DictConfig) -> ValidConfig:
    """Raise one :class:`ConfigError` listing every problem in ``cfg``; else the parsed parts."""
    problems: list[str] = []
    try:
        OmegaConf.resolve(OmegaConf.create(OmegaConf.to_container(cfg, resolve=False)))
    except OmegaConfBaseException as error:
        problems.append(_first_line(error))
    counters = _counter_names(cfg, problems)
    for section in TYPED_SECTIONS:
        problems += _check_section(cfg, section, counters)
    known_problems = len(problems)
    train_for = _duration(cfg, "train_for", counters, problems)
    every = {
        name: _duration(
            cfg.evaluation[name], "every", counters, problems, f"evaluation.{name}.every"
        )
        for name in cfg.evaluation
    }
    checkpoint_every = _duration(cfg.checkpoint, "every", (), problems, "checkpoint.every")
    # A train_for that failed to parse is already reported; "nothing stops" would mislead.
    if train_for is None and len(problems) == known_problems and _unbounded(cfg):
        problems.append(
            "nothing stops training: set train_for (e.g. train_for='10 epochs') "
            "or trainer.max_epochs / trainer.max_steps"
        )
    problems += _monitor_problems(cfg)
    problems += link_type_problems(cfg)
    if problems:
        # A bad eval_params value is found twice: as itself and where an evaluation links it.
        raise ConfigError("\n".join(dict.fromkeys(problems)))
    assert checkpoint_every is not None  # `every` is a str field: parsed or a problem
    return ValidConfig(
        train_for, {k: v for k, v in every.items() if v is not None}, checkpoint_every
    )


def _check_section(cfg: DictConfig, section: str, counters: tuple[str, ...]) -> list[str]:
    node = cfg.get(section)
    schema = OmegaConf.get_type(node) if isinstance(node, DictConfig) else None
    if not isinstance(node, DictConfig) or schema in (dict, None):
        return []
    assert isinstance(schema, type)
    try:
        # Literal choices, durations and finite numbers first: __post_init__ checks may
        # compare the very values these find wrong.
        problems = field_problems(node, schema, section, counters)
        if problems:
            return problems
        OmegaConf.to_object(node)  # runs the dataclass's __post_init__ checks
    except (ValueError, TypeError, DlconfError) as error:
        message = str(error)
        return [message if message.startswith(section) else f"{section}: {message}"]
    except OmegaConfBaseException as error:
        return [_first_line(error)]
    return []


def _monitor_problems(cfg: DictConfig) -> list[str]:
    """A checkpoint monitor that nothing logs would silently keep no best checkpoint."""
    try:
        monitor = OmegaConf.select(cfg, "checkpoint.monitor")
        scalars = logged_scalars(cfg)
    except OmegaConfBaseException:
        return []  # reported by the interpolation check above
    if not monitor or monitor in scalars:
        return []
    return ["checkpoint.monitor: " + scalars.unknown(str(monitor), "this experiment")]


def _counter_names(cfg: DictConfig, problems: list[str]) -> tuple[str, ...]:
    target = OmegaConf.select(cfg, "optimization._target_")
    try:
        cls = locate(str(target))
    except Exception:
        problems.append(f"optimization._target_={target!r} is not an importable class")
        return ()
    if not (isinstance(cls, type) and issubclass(cls, Optimization)):
        problems.append(f"optimization._target_={target!r} must subclass dlconf.Optimization")
        return ()
    return cls.counter_names


def _duration(
    node: DictConfig,
    key: str,
    counters: tuple[str, ...],
    problems: list[str],
    full_key: str | None = None,
) -> Duration | None:
    full_key = full_key or key
    raw = node._get_node(key)
    try:
        value = node[key]
    except OmegaConfBaseException as error:
        problems.append(_first_line(error))
        return None
    if value is None:
        return None
    # Name the setting the user would change: an evaluation's `every` usually links to a
    # duration in eval_params, and the fix belongs there. Any other interpolation (a
    # resolver, a link to a number: `train_for=${params.beta}`) is this key's value.
    link = (
        _LINK.fullmatch(str(raw._value())) if raw is not None and raw._is_interpolation() else None
    )
    source = full_key
    if link and link.group(1).split(".")[0] in HYPER_PARAMETER_SECTIONS:
        linked = OmegaConf.select(node._get_root(), link.group(1))
        source = link.group(1) if isinstance(linked, str) else full_key
    try:
        return parse_duration(str(value), counters, key=source)
    except DurationError as error:
        problems.append(str(error))
        return None


def _unbounded(cfg: DictConfig) -> bool:
    trainer: Any = cfg.trainer
    return (
        trainer.max_epochs in (None, -1)
        and trainer.max_steps in (None, -1)
        and trainer.max_time is None
        and not trainer.fast_dev_run
    )


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0]
