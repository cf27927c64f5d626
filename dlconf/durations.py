"""Durations such as ``"30 minutes"``, ``"10 epochs"``, ``"500 global_steps"``.

A duration is an amount and a unit. Units are wall-clock time (``seconds`` ... ``days``),
Lightning's ``epochs`` and ``global_steps``, or any counter the optimization keeps
(``"3 iterations"`` counts ``optimization.counters["iteration"]``). Singular and plural
both read (``"1 epoch"``). Parsing is pure; counting lives with the callbacks that use it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from dlconf.errors import DurationError, close_matches

SECONDS_PER_UNIT: Final[dict[str, float]] = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
}
_TIME_ALIASES: Final[dict[str, str]] = {
    "s": "second",
    "sec": "second",
    "min": "minute",
    "h": "hour",
}
EPOCH: Final = "epoch"
GLOBAL_STEP: Final = "global_step"
BUILTIN_UNITS: Final = (*SECONDS_PER_UNIT, EPOCH, GLOBAL_STEP)

_PATTERN = re.compile(r"^\s*(?P<amount>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[A-Za-z_]+)\s*$")


@dataclass(frozen=True)
class Duration:
    """An amount of a unit: seconds of wall-clock time, epochs, steps or a counter."""

    amount: float
    unit: str
    """Singular unit name: ``second``/``minute``/``hour``/``day``, ``epoch``,
    ``global_step`` or a counter name such as ``iteration``."""

    @property
    def is_time(self) -> bool:
        return self.unit in SECONDS_PER_UNIT

    @property
    def seconds(self) -> float:
        """The duration in seconds; only for time units."""
        return self.amount * SECONDS_PER_UNIT[self.unit]

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount} {self.unit}{'' if amount == 1 else 's'}"


def parse_duration(text: str, counters: Collection[str] = (), *, key: str = "duration") -> Duration:
    """Parse ``text`` into a :class:`Duration`.

    ``counters`` are the counter names the optimization keeps (``iteration``, ...);
    ``key`` names the setting in error messages (``train_for``).
    """
    known = (*BUILTIN_UNITS, *counters)
    match = _PATTERN.match(str(text))
    if match is None:
        raise DurationError(
            f"{key}={text!r} is not a duration: write an amount and a unit, "
            f"e.g. {key}='30 minutes' or {key}='10 epochs' (units: {', '.join(known)})"
        )
    amount = float(match["amount"])
    unit = _singular(match["unit"].lower(), known)
    if unit is None:
        word = match["unit"]
        raise DurationError(
            f"{key}={text!r} has an unknown unit '{word}'{close_matches(word, known)}; "
            f"units: {', '.join(known)}"
        )
    if amount <= 0:
        raise DurationError(f"{key}={text!r} must be positive, e.g. {key}='1 {unit}'")
    if not (unit in SECONDS_PER_UNIT or amount.is_integer()):
        raise DurationError(f"{key}={text!r}: {unit}s are counted in whole numbers")
    return Duration(amount, unit)


def _singular(word: str, known: Collection[str]) -> str | None:
    word = _TIME_ALIASES.get(word, word)
    if word in known:
        return word
    if word.endswith("s") and word[:-1] in known:
        return word[:-1]
    return None
