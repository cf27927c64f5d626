"""Bash completion for ``python -m experiments.<name>``, driven as bash drives it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlconf.runner.completion import completion_request, prepare_query
from tests.conftest import ROOT

DRIVE = """
eval "$(python -m experiments.mnist_vae -sc install=bash)"
COMP_LINE="python -m experiments.mnist_vae $1"
COMP_POINT=${#COMP_LINE}
COMP_WORDS=($COMP_LINE)
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
dlconf_bash_completion
printf '%s\\n' "${COMPREPLY[@]}"
"""


def _complete(partial: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
    # `python` is this interpreter, as in an activated virtual environment.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", DRIVE, "complete", partial],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_installed_function_completes_keys_of_the_module() -> None:
    assert _complete("params.b") == ["params.batch_size=", "params.beta="]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_it_completes_group_options() -> None:
    assert "logger=tensorboard" in _complete("logger=")


def test_the_query_line_loses_the_m_and_the_cursor_moves_with_it() -> None:
    line = "python -m experiments.mnist_vae params.b"
    environ = {"COMP_LINE": line, "COMP_POINT": str(len(line))}
    prepare_query(environ)
    assert environ["COMP_LINE"] == "python experiments.mnist_vae params.b"
    assert environ["COMP_POINT"] == str(len(environ["COMP_LINE"]))


def test_completion_requests_are_found_in_either_spelling() -> None:
    assert completion_request(["-sc", "install=bash"]) == "install=bash"
    assert completion_request(["--shell-completion=query=bash"]) == "query=bash"
    assert completion_request(["params.beta=1"]) is None
