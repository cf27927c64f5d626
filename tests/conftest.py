"""Shared fixtures: a small MNIST in the real IDX format, and running an experiment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dlconf.runner.run_folder import RunFolder
from tests.mnist_files import write_mnist_idx

ROOT = Path(__file__).parents[1]

RunExperiment = Callable[..., subprocess.CompletedProcess[str]]

QUICK_MODULES = frozenset(
    {
        "test_callbacks.py",
        "test_configs.py",
        "test_devices.py",
        "test_durations.py",
        "test_evaluators.py",
        "test_fast_loading.py",
        "test_flatten.py",
        "test_mnist_architectures.py",
        "test_mnist_data.py",
        "test_synthetic_digits.py",
        "test_tensorboard_logger.py",
    }
)
"""Modules that run in-process on small data, marked ``quick`` whole.

``python -m pytest -m quick`` runs them and the tests marked ``@pytest.mark.quick`` one by
one: about a minute, for the edit-test loop. Tests that start ``python -m`` subprocesses
or run the type checkers (tests/typing) stay in the full suite, which CI runs.
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in QUICK_MODULES:
            item.add_marker(pytest.mark.quick)


@pytest.fixture(scope="session", autouse=True)
def answer_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs the tests start remember their answers (dlconf.runner.answer_cache) here, not in
    the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg_cache")))
        yield


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding MNIST/raw with 6,000 training and 1,000 test rendered digits."""
    root = tmp_path_factory.mktemp("datasets")
    write_mnist_idx(root, n_train=6000, n_test=1000)
    return root


@pytest.fixture
def run_experiment(tmp_path: Path) -> RunExperiment:
    """Run ``python -m experiments.<name> overrides...`` as a user would, runs under tmp_path."""

    def run(name: str, *overrides: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "DEVICE_NAME"}
        return subprocess.run(
            # Flags such as -m must come before the overrides, as on a command line.
            [
                sys.executable,
                "-m",
                f"experiments.{name}",
                *overrides,
                f"device.experiments_root={tmp_path / 'runs'}",
                "trainer.enable_progress_bar=false",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )

    return run


def run_folders(experiments_root: Path) -> list[Path]:
    """Every run folder under ``experiments_root``, as :class:`RunFolder` finds them."""
    return [folder.path for folder in RunFolder.all_under(experiments_root)]
