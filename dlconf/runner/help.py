"""The text of ``--help``: the experiment, its groups, and its params with defaults."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from dlconf.experiment import Experiment


def help_template(experiment: Experiment[Any]) -> str:
    params: object = experiment.params
    module_doc = inspect.getdoc(inspect.getmodule(type(params))) or ""
    lines = [
        f"== {experiment.name} ==",
        module_doc.split("\n\n")[0],
        "",
        "== Config groups (choose one with GROUP=OPTION) ==",
        "$APP_CONFIG_GROUPS",
        "== Params (override with params.NAME=VALUE) ==",
        *_field_lines(experiment.params, "params"),
    ]
    if dataclasses.is_dataclass(experiment.eval_params):
        lines += ["", "== Eval params ==", *_field_lines(experiment.eval_params, "eval_params")]
    lines += [
        "",
        "== Examples ==",
        f"python -m experiments.{experiment.name} params.NAME=VALUE train_for='30 minutes'",
        f"python -m experiments.{experiment.name} -m params.NAME=1,2,3   # one run per value",
        f"python -m experiments.{experiment.name} --cfg job              # print the config",
        "",
        "Use --hydra-help for Hydra's own options.",
    ]
    # Hydra reads `$` as a template variable; a literal one must be doubled.
    return "\n".join(lines).replace("${", "$${")


def _field_lines(instance: Any, path: str) -> list[str]:
    lines: list[str] = []
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        if dataclasses.is_dataclass(value):
            lines += _field_lines(value, f"{path}.{field.name}")
        else:
            shown = str(value) if isinstance(value, str) else value  # a Duration reads as text
            lines.append(f"  {path}.{field.name}={shown!r}")
    return lines
