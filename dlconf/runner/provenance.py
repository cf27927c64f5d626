"""Where each value of a run's config comes from: ``python -m experiments.X --explain [overrides]``.

The config is composed twice with Hydra's compose API, as the run would compose it: once
with the command line's group choices alone (``data=synthetic``, ``device=laptop``,
``logger=tensorboard``), once with every override. Each leaf key is then attributed to the
first layer that sets it:

- ``experiment``: the experiment module's default;
- ``group data=synthetic``: the option chosen for a config group (default or not); a
  device's fields read ``device laptop``;
- ``command line``: an override names the key (or a section above it), or changes it;
  ``sweep`` instead when a sweep gave the overrides (a W&B agent, or a local sweep's trial:
  ``DLCONF_SWEEP_TRIAL``);
- a link such as ``${params.beta}`` reads ``link to params.beta``, with where that value
  came from.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from hydra import compose
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import Container, DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from dlconf.errors import ConfigError
from dlconf.loggers.flatten import flatten
from dlconf.runner.agent_guard import started_by_agent
from dlconf.runner.config_diff import compact, table
from dlconf.runner.hydra_errors import explain
from dlconf.runner.hydra_init import initialized
from dlconf.runner.overrides import parse_command_line
from dlconf.runner.resume import split_resume
from dlconf.runner.run_label import SWEEP_TRIAL_ENV_VAR

FLAG = "--explain"
SWEEP_ENV_VAR = SWEEP_TRIAL_ENV_VAR
"""Set by a local sweep in each trial it starts (and by ``dlconf.compare --explain`` for a
recorded sweep run): the overrides are the sweep's."""
EXPERIMENT = "experiment"
COMMAND_LINE = "command line"
SWEEP = "sweep"

_LINK = re.compile(r"^\$\{([A-Za-z_][\w./]*)\}$")  # `${params.beta}`; not a resolver `${now:...}`


@dataclass(frozen=True)
class Origin:
    """One leaf of the composed config: its key, its value as text, where it came from."""

    key: str
    value: str
    source: str


def explain_command_line(config_name: str, args: Sequence[str]) -> str:
    """The ``--explain`` report for the stored experiment ``config_name`` and ``args``
    (the command line without the program and without ``--explain``)."""
    parsed = parse_command_line([sys.argv[0], *args])
    resume, overrides = split_resume(list(parsed.overrides))
    if parsed.multirun or resume is not None:
        raise ConfigError(f"{FLAG} explains one new run's config: drop -m and resume=")
    keys = [
        override.key_or_group for override in OverridesParser.create().parse_overrides(overrides)
    ]
    with initialized(__file__):
        final = _compose(config_name, overrides)
        choices = {
            group: str(option)
            for group, option in cast(Mapping[str, Any], final.hydra.runtime.choices).items()
            if "/" not in group
        }
        group_choices = [o for o, key in zip(overrides, keys, strict=True) if key in choices]
        chosen = _compose(config_name, group_choices)
    named = [key for key in keys if key not in choices]
    origins = attribute(
        _without_hydra(chosen), _without_hydra(final), named, choices, in_sweep=in_sweep()
    )
    rows = [[origin.key, origin.value, origin.source] for origin in origins]
    return "\n".join(table(["key", "value", "source"], rows)) + "\n"


def in_sweep(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a sweep gave this run's overrides."""
    return started_by_agent(environ) or bool(environ.get(SWEEP_ENV_VAR))


def attribute(
    chosen: DictConfig,
    final: DictConfig,
    named: Sequence[str],
    choices: Mapping[str, str],
    *,
    in_sweep: bool = False,
) -> list[Origin]:
    """Each leaf of ``final`` with its source.

    ``chosen``: the config composed with the group choices alone; ``named``: the keys the
    other overrides set; ``choices``: each config group's chosen option.
    """
    before = flatten(_plain(chosen))
    after = flatten(_plain(final))
    overridden = SWEEP if in_sweep else COMMAND_LINE

    def source(key: str) -> str:
        if any(key == n or key.startswith(f"{n}.") for n in named) or before.get(key) != after[key]:
            return overridden
        return _group_source(key, choices) or EXPERIMENT

    sources = {key: source(key) for key in after}
    origins: list[Origin] = []
    for key, raw in after.items():
        link = _LINK.match(raw) if isinstance(raw, str) else None
        text = sources[key]
        if link is not None:
            target = link.group(1)
            of_target = sources.get(target) or _group_source(target, choices) or EXPERIMENT
            text = (
                f"{text}, link to {target}"
                if text == overridden
                else f"link to {target} ({of_target})"
            )
        origins.append(Origin(key, _value(final, key, raw), text))
    return origins


def _group_source(key: str, choices: Mapping[str, str]) -> str | None:
    top = key.split(".", 1)[0]
    if top not in choices:
        return None
    return f"device {choices[top]}" if top == "device" else f"group {top}={choices[top]}"


def _value(cfg: DictConfig, key: str, raw: object) -> str:
    """The value of ``key`` resolved; as written when it links to a whole section or cannot
    resolve here (``${hydra:...}`` outside a run)."""
    try:
        value = OmegaConf.select(cfg, key, throw_on_missing=False)
    except OmegaConfBaseException:
        return compact(raw, None)
    if isinstance(value, DictConfig):
        return compact(raw, None)
    if isinstance(value, Container):
        try:
            value = OmegaConf.to_container(value, resolve=True)
        except OmegaConfBaseException:
            return compact(raw, None)
    return compact(value, None)


def _compose(config_name: str, overrides: list[str]) -> DictConfig:
    try:
        return compose(config_name, overrides=overrides, return_hydra_config=True)
    except HydraException as error:
        raise explain(error, overrides, lambda: compose(config_name)) from None


def _without_hydra(cfg: DictConfig) -> DictConfig:
    cfg = cfg.copy()
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def _plain(cfg: DictConfig) -> dict[str, Any]:
    return cast(dict[str, Any], OmegaConf.to_container(cfg, resolve=False))
