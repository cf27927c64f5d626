"""Durations: ``minutes(30)``, ``epochs(10)``, ``global_steps(500)`` in code, strings on the CLI.

A duration is an amount and a unit. Units are wall-clock time (``seconds`` ... ``days``),
Lightning's ``epochs`` and ``global_steps``, or any counter the optimization keeps
(``iterations(3)`` counts ``optimization.counters["iteration"]``).

In experiment code a duration is a typed value, so a misspelt unit or a bare string is a
type error, and a setting that cannot count some units says so in its type
(``Checkpoint.every`` takes a :data:`CheckpointEvery`: time, epochs or global steps)::

    every: Duration = minutes(1)
    checkpoint = Checkpoint(every=global_steps(1000))

Each duration is also the string it prints as (``"1 minute"``), which is what the config
stores and what the command line overrides: ``train_for="30 minutes"``. Parsing that
string (:func:`parse_duration`) gives the same typed value back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Final, Self, TypeAlias, cast

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

MAX_SECONDS: Final = 100 * 365 * 86400.0
"""A century: longer than any run, and far inside what ``timedelta`` and clocks can hold."""
MAX_COUNT: Final = 2**53
"""Counts above this are not exact as floats (and no run takes that many steps)."""

_PATTERN = re.compile(
    r"^\s*(?P<amount>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)\s*(?P<unit>[A-Za-z_]+)\s*$"
)


class Duration(str):
    """An amount of a unit; also the string ``"<amount> <unit>s"`` it stands for.

    Build one with :func:`minutes`, :func:`epochs`, :func:`global_steps`, ... or parse one
    with :func:`parse_duration`; the subclass tells what it counts.
    """

    amount: float
    unit: str
    """Singular unit name: ``second``/``minute``/``hour``/``day``, ``epoch``,
    ``global_step`` or a counter name such as ``iteration``."""

    def __new__(cls, amount: float, unit: str) -> Self:
        shown = int(amount) if float(amount).is_integer() else amount
        text = f"{shown} {unit}{'' if shown == 1 else 's'}"
        duration = super().__new__(cls, text)
        duration.amount = float(amount)
        duration.unit = unit
        return duration

    def __getnewargs__(self) -> tuple[float, str]:  # type: ignore[override]
        return (self.amount, self.unit)

    def __repr__(self) -> str:
        return f"Duration(amount={_shown(self.amount)!r}, unit={self.unit!r})"

    @property
    def is_time(self) -> bool:
        return self.unit in SECONDS_PER_UNIT

    @property
    def seconds(self) -> float:
        """The duration in seconds; only for time units."""
        return self.amount * SECONDS_PER_UNIT[self.unit]


class TimeDuration(Duration):
    """Wall-clock training time (evaluation excluded)."""


class EpochDuration(Duration):
    """Passes over the training data."""


class StepDuration(Duration):
    """Optimizer steps as Lightning counts them (``trainer.global_step``)."""


class CounterDuration(Duration):
    """A counter the optimization keeps, such as ``iteration``."""


CheckpointEvery: TypeAlias = TimeDuration | EpochDuration | StepDuration
"""What Lightning's checkpointing can count: time, epochs or global steps."""


def seconds(amount: float) -> TimeDuration:
    return TimeDuration(_checked(amount, "second"), "second")


def minutes(amount: float) -> TimeDuration:
    return TimeDuration(_checked(amount, "minute"), "minute")


def hours(amount: float) -> TimeDuration:
    return TimeDuration(_checked(amount, "hour"), "hour")


def days(amount: float) -> TimeDuration:
    return TimeDuration(_checked(amount, "day"), "day")


def epochs(amount: int) -> EpochDuration:
    return EpochDuration(_checked(amount, EPOCH), EPOCH)


def global_steps(amount: int) -> StepDuration:
    return StepDuration(_checked(amount, GLOBAL_STEP), GLOBAL_STEP)


def iterations(amount: int) -> CounterDuration:
    """The optimization's ``iteration`` counter (one per training step of batch-Adam)."""
    return counted(amount, "iteration")


def counted(amount: int, counter: str) -> CounterDuration:
    """``amount`` of any counter the optimization keeps, e.g. ``counted(5, "generator_step")``."""
    return CounterDuration(_checked(amount, counter), counter)


def parse_duration(text: str, counters: Collection[str] = (), *, key: str = "duration") -> Duration:
    """Parse ``text`` (``"30 minutes"``) into the typed :class:`Duration` it writes.

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
    _checked(amount, unit, key=key, text=str(text))
    return _typed(amount, unit)


def _typed(amount: float, unit: str) -> Duration:
    if unit in SECONDS_PER_UNIT:
        return TimeDuration(amount, unit)
    if unit == EPOCH:
        return EpochDuration(amount, unit)
    if unit == GLOBAL_STEP:
        return StepDuration(amount, unit)
    return CounterDuration(amount, unit)


def _checked(amount: float, unit: str, *, key: str | None = None, text: str | None = None) -> float:
    """``amount`` if it is a duration the clocks can count, else a DurationError."""
    written = text if text is not None else f"{_shown(amount)} {unit}s"
    where = f"{key}={written!r}" if key else f"{unit}s({_shown(amount)})"
    example = f"{key}='1 {unit}'" if key else f"{unit}s(1)"
    number = cast(object, amount)  # callers without a type checker may pass anything
    if isinstance(number, bool) or not isinstance(number, int | float) or math.isnan(number):
        raise DurationError(f"{where}: the amount must be a number, e.g. {example}")
    if amount <= 0:
        raise DurationError(f"{where} must be positive, e.g. {example}")
    if unit in SECONDS_PER_UNIT:
        if amount * SECONDS_PER_UNIT[unit] > MAX_SECONDS:
            raise DurationError(f"{where} is longer than a century: no clock counts that far")
    elif not float(amount).is_integer():
        raise DurationError(f"{where}: {unit}s are counted in whole numbers")
    elif amount > MAX_COUNT:
        raise DurationError(f"{where} is more {unit}s than any run takes (at most {MAX_COUNT})")
    return float(amount)


def _shown(amount: float) -> float | int:
    return int(amount) if float(amount).is_integer() and math.isfinite(amount) else amount


def _singular(word: str, known: Collection[str]) -> str | None:
    word = _TIME_ALIASES.get(word, word)
    if word in known:
        return word
    if word.endswith("s") and word[:-1] in known:
        return word[:-1]
    return None
