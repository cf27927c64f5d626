"""The answer-time benchmark's instruments: process timing with its exit code, and the
``-X importtime`` breakdown (the full run is ``python -m benchmarks.answer_time --quick``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.answer_time import CASES, import_breakdown, run_once, valid_check_seconds


@pytest.mark.quick
def test_a_process_is_timed_and_must_exit_as_expected() -> None:
    assert run_once([sys.executable, "-c", "pass"], 0) > 0
    with pytest.raises(RuntimeError, match="exited 3"):
        run_once([sys.executable, "-c", "raise SystemExit(3)"], 0)


@pytest.mark.quick
def test_imports_are_summed_per_top_level_package() -> None:
    seconds = import_breakdown([sys.executable, "-c", "import json.decoder, email.message"])
    assert {"json", "email"} <= set(seconds)
    assert all(value >= 0 for value in seconds.values())


def test_the_cases_compare_with_import_torch_first() -> None:
    assert next(iter(CASES)).startswith('python -c "import torch"')
    assert CASES["mnist_vae params.bta=0.1 (misspelt key), warm"][1:] == (2, True)
    assert CASES["mnist_vae --help, cold (first answer)"][1:] == (0, False)


def test_a_warm_answer_is_timed_from_the_cache_a_cold_one_from_an_empty_one(
    tmp_path: Path,
) -> None:
    command, code, _ = CASES["mnist_vae params.bta=0.1 (misspelt key), warm"]
    cold = run_once(command, code, tmp_path)  # an empty folder: remembers the answer
    assert run_once(command, code, tmp_path) < cold / 5
    assert 0 < valid_check_seconds(tmp_path, tmp_path / "pycache", compiled=False) < 0.5
