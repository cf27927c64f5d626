"""What the type checkers must accept and reject in experiment code.

``cases/good_*.py`` must pass ``mypy --strict`` and ``pyright`` (strict) with no error.
Each ``cases/bad_*.py`` holds one deliberate experiment mistake on the line marked
``# expect-error``: both checkers must report an error on exactly that line and nowhere
else, so a mistake the checkers stop catching fails this test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases"
ROOT = Path(__file__).parents[2]
MARK = "# expect-error"

GOOD = sorted(CASES.glob("good_*.py"))
BAD = sorted(CASES.glob("bad_*.py"))


def _marked_lines(path: Path) -> set[int]:
    lines = path.read_text().splitlines()
    return {number for number, line in enumerate(lines, start=1) if MARK in line}


@cache
def mypy_errors() -> dict[str, set[int]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-absolute-path",
            *map(str, GOOD + BAD),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors: dict[str, set[int]] = defaultdict(set)
    for line in result.stdout.splitlines():
        match = re.match(r"^(?P<path>.+?\.py):(?P<line>\d+): error:", line)
        if match:
            errors[Path(match["path"]).name].add(int(match["line"]))
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return errors


@cache
def pyright_errors() -> dict[str, set[int]]:
    result = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson", *map(str, GOOD + BAD)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    errors: dict[str, set[int]] = defaultdict(set)
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            errors[Path(diagnostic["file"]).name].add(diagnostic["range"]["start"]["line"] + 1)
    return errors


CHECKERS = {"mypy": mypy_errors, "pyright": pyright_errors}


@pytest.mark.parametrize("checker", CHECKERS)
@pytest.mark.parametrize("case", GOOD, ids=lambda p: p.stem)
def test_correct_experiment_type_checks(checker: str, case: Path) -> None:
    assert CHECKERS[checker]().get(case.name, set()) == set()


@pytest.mark.parametrize("checker", CHECKERS)
@pytest.mark.parametrize("case", BAD, ids=lambda p: p.stem)
def test_mistake_is_rejected_on_its_line(checker: str, case: Path) -> None:
    expected = _marked_lines(case)
    assert expected, f"{case.name} marks no line with {MARK!r}"
    assert CHECKERS[checker]().get(case.name, set()) == expected
