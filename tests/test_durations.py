"""Duration strings: what parses, to what, and what each mistake says."""

from __future__ import annotations

import pytest

from dlconf.durations import Duration, parse_duration
from dlconf.errors import DurationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 minutes", Duration(30, "minute")),
        ("1 minute", Duration(1, "minute")),
        ("0.5 seconds", Duration(0.5, "second")),
        ("2 hours", Duration(2, "hour")),
        ("1 day", Duration(1, "day")),
        ("10 epochs", Duration(10, "epoch")),
        ("1 epoch", Duration(1, "epoch")),
        ("500 global_steps", Duration(500, "global_step")),
        ("3 iterations", Duration(3, "iteration")),
        ("  7   Epochs ", Duration(7, "epoch")),
        ("90 s", Duration(90, "second")),
        ("5 min", Duration(5, "minute")),
    ],
)
def test_parses(text: str, expected: Duration) -> None:
    assert parse_duration(text, counters=("iteration",)) == expected


def test_time_units_convert_to_seconds() -> None:
    assert parse_duration("30 minutes").seconds == 1800
    assert parse_duration("1 day").seconds == 86400
    assert parse_duration("2 epochs").is_time is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("30 minuts", "unknown unit 'minuts' (did you mean 'minute'?)"),
        ("minutes", "is not a duration"),
        ("ten epochs", "is not a duration"),
        ("0 epochs", "must be positive"),
        ("1.5 epochs", "whole numbers"),
        ("3 iterations", "unknown unit 'iterations'"),  # no such counter here
    ],
)
def test_mistakes_name_the_setting_and_the_fix(text: str, message: str) -> None:
    with pytest.raises(DurationError) as error:
        parse_duration(text, key="train_for")
    assert message in str(error.value)
    assert "train_for=" in str(error.value)


def test_prints_back_as_written() -> None:
    assert str(parse_duration("1 epoch")) == "1 epoch"
    assert str(parse_duration("30 minutes")) == "30 minutes"
