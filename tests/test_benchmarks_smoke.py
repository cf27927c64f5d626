"""Every benchmark runs end to end with ``--quick`` and prints its table with ratios.

The numbers of a quick run mean little (tiny data, one round); the test checks that each
``python -m benchmarks.<name>`` still works against the current code and prints the rows
the README's tables come from. They run in this process, so the imports are paid once.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator

import pytest
import torch

BENCHMARKS = {
    "step_overhead": ["Lightning, bare (the floor)", "dlconf as configured", "tiny VAE"],
    "data_path": ["torchvision per-sample, 0 workers", "dlconf fast path (batch by index)"],
    "first_step": ["bare PyTorch script", "dlconf, logger=none"],
    "config_cost": ["mnist_vae", "mnist_vib", "per job vs M=1"],
    "logging_tax": ["mnist_vib", "tensorboard", "wandb", "Images/Samples"],
    "celeba_loader": ["torchvision per-sample (PIL), 0 workers", "dlconf, uint8 cache"],
}


@pytest.fixture(autouse=True)
def restore_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Benchmarks set torch's threads and W&B's mode for their process: undo both."""
    threads = torch.get_num_threads()
    monkeypatch.setenv("WANDB_MODE", "offline")
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs_quick_and_prints_its_table(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    monkeypatch.setattr(sys, "argv", [name, "--quick"])
    module.main()
    out = capsys.readouterr().out
    assert "CPU cores" in out  # the machine line the README quotes
    for row in BENCHMARKS[name]:
        assert row in out, out
    ratios = [float(r) for r in re.findall(r"\|\s*(\d+(?:\.\d+)?)x\s*\|", out)]
    assert ratios and all(r > 0 for r in ratios), out
