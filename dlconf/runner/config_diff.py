"""What differs between runs' configs, grouped the way a researcher reads a comparison.

Configs are compared as recorded (``config.yaml``: links such as ``${params.beta}`` intact),
so a hyper-parameter changed on the command line shows once, under ``params``, and not again
at every component field that links to it. Differing keys are grouped:

- ``params``: ``params.*`` and ``eval_params.*``, the hyper-parameters;
- ``components``: a component whose ``_target_`` differs is *swapped* and shows as its class
  names (its fields differ by construction); other component fields show key by key;
- ``training``: ``seed``, ``train_for``, ``checkpoint.*``, ``trainer.*``;
- ``device``: apart, since machines differ by design;
- ``run``: the project and run names, last.

A key that one run has and another lacks (the schema changed between commits) shows as
``(absent)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from dlconf.loggers.flatten import flatten

Section = Literal["params", "components", "training", "device", "run"]
SECTIONS: tuple[Section, ...] = ("params", "components", "training", "device", "run")
"""The order sections are shown in."""
ABSENT = "(absent)"
TARGET = "_target_"
MAX_VALUE_WIDTH = 48

_TRAINING_KEYS = ("seed", "train_for", "checkpoint", "trainer")
_MISSING = object()


@dataclass(frozen=True)
class Difference:
    """One key whose value is not the same in every run, with each run's value as text."""

    section: Section
    key: str
    values: tuple[str, ...]
    swapped: bool = False
    """A component whose class differs: ``values`` are class names."""


def config_differences(configs: Sequence[Mapping[str, Any]]) -> list[Difference]:
    """The keys on which ``configs`` (unresolved, as recorded) disagree, grouped by section."""
    flats = [flatten(config) for config in configs]
    keys = list(dict.fromkeys(key for flat in flats for key in flat))
    differing = [
        key for key in keys if len({_identity(flat.get(key, _MISSING)) for flat in flats}) > 1
    ]
    swapped = _swapped_components(differing)
    found: list[Difference] = []
    for key in differing:
        component = key.removesuffix(f".{TARGET}")
        if component in swapped:
            values = tuple(_class_name(flat.get(key, _MISSING)) for flat in flats)
            found.append(Difference("components", component, values, swapped=True))
        elif not any(key.startswith(f"{path}.") for path in swapped) and not key.endswith(TARGET):
            values = tuple(compact(flat.get(key, _MISSING)) for flat in flats)
            found.append(Difference(section_of(key), key, values))
    return sorted(found, key=lambda d: SECTIONS.index(d.section))  # stable: config order within


def section_of(key: str) -> Section:
    """The section a flat key is shown in."""
    top = key.split(".", 1)[0]
    if top in ("params", "eval_params"):
        return "params"
    if top in _TRAINING_KEYS:
        return "training"
    if top in ("device", "run"):
        return cast(Section, top)
    return "components"


def compact(value: object, width: int | None = MAX_VALUE_WIDTH) -> str:
    """``value`` on one line, as it would be typed in an override; cut at ``width``."""
    if value is _MISSING:
        return ABSENT
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = repr(value)
    else:
        # Lists and mappings as JSON without spaces: one word, like `params.layers=[64,32]`.
        text = json.dumps(value, separators=(",", ":"), default=str)
    if width is not None and len(text) > width:
        # Cut in the middle: a path's or a list's end tells runs apart as often as its start.
        head = (width - 3) // 2
        return text[:head] + "..." + text[len(text) - (width - 3 - head) :]
    return text


def _swapped_components(differing: Sequence[str]) -> set[str]:
    """Components whose ``_target_`` differs, outermost only: a swapped model's encoder is
    part of the swap, not a second one."""
    paths = sorted(
        (k.removesuffix(f".{TARGET}") for k in differing if k.endswith(f".{TARGET}")), key=len
    )
    outer: set[str] = set()
    for path in paths:
        if not any(path.startswith(f"{o}.") for o in outer):
            outer.add(path)
    return outer


def _class_name(target: object) -> str:
    if target is _MISSING:
        return ABSENT
    return str(target).rsplit(".", 1)[-1]


def _identity(value: object) -> str:
    # Values from YAML may be lists or mappings (unhashable); their JSON compares them.
    return "\0absent" if value is _MISSING else json.dumps(value, sort_keys=True, default=str)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """``rows`` under ``header`` in aligned columns; a one-cell row is a section title."""
    widths = [len(cell) for cell in header]
    for row in rows:
        if len(row) > 1:
            widths = [
                max(w, len(c)) for w, c in zip(widths, [*row, *[""] * len(widths)], strict=False)
            ]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=False)
        ).rstrip()

    return [line(header), *(line(row) if len(row) > 1 else row[0] for row in rows)]
