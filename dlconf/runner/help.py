"""The text of ``--help``: every key a user sets, its default, and what it means.

The meaning is the docstring written under each dataclass field (``beta: float = 0.5``
then ``\"\"\"Weight of the KL regularization.\"\"\"``), read by :mod:`.field_docs`; so help
text lives next to the field, as users of typed command lines expect.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any, cast

from dlconf.devices import DEVICE_ENV_VAR, registered_devices, selected_device_name
from dlconf.experiment import Experiment
from dlconf.runner.field_docs import field_docs
from dlconf.runner.loggers import LOGGER_OPTIONS, default_logger

WIDTH = 100
KEY_COLUMN = 36
"""Where the explanations start; a longer ``key=value`` pushes its own explanation over."""

RUN_DOCS = {
    "seed": "Seeds Python, NumPy, torch and data-loader workers: the same seed, device and "
    "code give the same losses.",
    "run.project": "The W&B project; a run's folder is "
    "<device.experiments_root>/<run.project>/<run.name>/<date>_<time>.",
    "run.name": "The W&B run name; also a folder of the run's path (see run.project).",
    "checkpoint.save_last": "Keep last.ckpt, which resume=<run folder> continues from.",
}
"""Explanations for keys whose field has no docstring of its own."""


def help_template(experiment: Experiment[Any]) -> str:
    """The ``--help`` text of ``experiment``, escaped for Hydra's help template."""
    command = f"python -m experiments.{experiment.name}"
    lines = [
        f"== {experiment.name} ==",
        _summary(experiment),
        "",
        "== Config groups (choose one with GROUP=OPTION) ==",
        *_group_lines(experiment),
        "",
        "== Training and run ==",
        *_run_lines(experiment),
        "",
        "== Params (override with params.NAME=VALUE) ==",
        *_field_lines(experiment.params, "params"),
    ]
    if dataclasses.is_dataclass(experiment.eval_params):
        lines += ["", "== Eval params ==", *_field_lines(experiment.eval_params, "eval_params")]
    lines += [
        "",
        "== Other keys ==",
        *_described("trainer.NAME=VALUE", "Any Lightning Trainer argument: trainer.max_epochs=20"),
        *_described("device.NAME=VALUE", "This machine's paths, workers, accelerator, precision"),
        *_described("resume=last", "Continue the newest run (or resume=<run folder>)"),
        "",
        "== Examples ==",
        f"{command} params.NAME=VALUE train_for='30 minutes'",
        f"{command} -m params.NAME=1,2,3   # one run per value",
        f"{command} --cfg job              # print every key of the composed config",
        f"{command} --explain              # ...and where each value comes from",
        "",
        "Use --hydra-help for Hydra's own options.",
    ]
    return _escape("\n".join(lines))


def _summary(experiment: Experiment[Any]) -> str:
    """The experiment module's title: its docstring's first line, up to a colon.

    What follows a colon there is for readers of the code ("...: the seed's YAML, typed").
    """
    params: object = experiment.params
    module_doc = inspect.getdoc(inspect.getmodule(type(params))) or ""
    first_line = module_doc.strip().split("\n", 1)[0]
    return first_line.split(": ", 1)[0].rstrip(".").replace("``", "")


def _group_lines(experiment: Experiment[Any]) -> list[str]:
    return [
        _group("data", experiment.data, experiment.default_data or next(iter(experiment.data))),
        _group(
            "device", registered_devices(), selected_device_name(), f"; {DEVICE_ENV_VAR} sets it"
        ),
        _group("logger", LOGGER_OPTIONS, default_logger()),
    ]


def _group(name: str, options: Iterable[str], default: str, note: str = "") -> str:
    return f"  {name}: {', '.join(sorted(options))}  (default: {default}{note})"


def _run_lines(experiment: Experiment[Any]) -> list[str]:
    docs = field_docs(Experiment)
    lines = [
        *_described(f"train_for={_literal(experiment.train_for)}", docs.get("train_for", "")),
        *_described(f"seed={_literal(experiment.seed)}", RUN_DOCS["seed"]),
    ]
    for path, instance in (("run", experiment.run), ("checkpoint", experiment.checkpoint.stored())):
        lines += _field_lines(instance, path, RUN_DOCS)
    return lines


def _field_lines(instance: Any, path: str, fallback: Mapping[str, str] = RUN_DOCS) -> list[str]:
    docs = field_docs(instance.__class__)
    lines: list[str] = []
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        key = f"{path}.{field.name}"
        if dataclasses.is_dataclass(value):
            lines += _field_lines(value, key, fallback)
        else:
            doc = docs.get(field.name) or fallback.get(key, "")
            lines += _described(f"{key}={_literal(value)}", doc)
    return lines


def _described(setting: str, doc: str) -> list[str]:
    """``  key=value   explanation``, the explanation wrapped in its own column."""
    head = f"  {setting}"
    if not doc:
        return [head]
    indent = " " * KEY_COLUMN
    lines = [head] if len(head) >= KEY_COLUMN - 1 else []
    first = indent if lines else head.ljust(KEY_COLUMN)
    # Paths and keys stay whole: a user copies them.
    return lines + textwrap.wrap(
        doc.replace("``", ""),
        WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _literal(value: object) -> str:
    """``value`` as it would be typed in an override."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(str(value))  # a Duration or a Metric reads as the text it is
    if isinstance(value, list | tuple):
        items = cast(Iterable[object], value)
        return "[" + ",".join(_literal(item) for item in items) + "]"  # no spaces: one word
    return str(value)


def _escape(text: str) -> str:
    # Hydra reads the template through OmegaConf (`${` starts an interpolation) and then
    # string.Template (`$` starts a variable): a literal `$` must survive both.
    return text.replace("$", "$$").replace("$${", "$\\${")
