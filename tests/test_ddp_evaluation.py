"""Evaluation under DDP: 2 CPU processes share the samples and report what 1 process does.

Both runs evaluate the same untrained model (same seed) at step 0, and again after one
training step (where the runs differ: 2 processes train on 2 batches). The step-0 numbers
must agree within float rounding, while each of the 2 processes scored half the examples.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import Tensor

from dlconf.evaluation import ELBOEvaluation
from dlconf.evaluation.support import Shard
from dlconf.optimization.batch_adam import AdamBatchOptimization
from tests.conftest import ROOT
from tests.ddp_evaluation import Noisy, Points

SPLIT_EXAMPLES = 45  # per split, in batches of 8: 6 batches each, the last of 5


def evaluate_on(devices: int, out: Path) -> tuple[dict[str, dict[str, float]], list[int]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEVICE_NAME", "LOCAL_RANK")}
    done = subprocess.run(
        [sys.executable, "-m", "tests.ddp_evaluation", str(devices), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    entries = json.loads((out / "entries.json").read_text())
    scored = [json.loads((out / f"rank{r}.json").read_text())["scored"] for r in range(devices)]
    return entries, scored


def test_two_processes_evaluate_half_each_and_agree_with_one(tmp_path: Path) -> None:
    alone, alone_scored = evaluate_on(1, tmp_path / "one")
    shared, shared_scored = evaluate_on(2, tmp_path / "two")

    for name in ("ELBO@0", "Accuracy@0"):
        assert shared[name].keys() == {"Train", "Validation"}
        for split, value in alone[name].items():
            assert shared[name][split] == pytest.approx(value, rel=1e-12, abs=1e-12), name
    # ELBO and accuracy, each at the start and the end, of 2 splits: 8 x 45 examples. Each
    # of the 2 processes scored 6 of each evaluation's 12 batches (one split's).
    evaluated = 2 * 2 * 2 * SPLIT_EXAMPLES
    assert alone_scored == [evaluated]
    assert sum(shared_scored) == evaluated
    assert all(scored == evaluated // 2 for scored in shared_scored)


# In one process: the parts of two shards add up to the whole.


def test_shards_cut_a_range_into_contiguous_near_equal_parts() -> None:
    parts = [Shard(rank, 3).part(10) for rank in range(3)]
    assert parts == [range(0, 3), range(3, 6), range(6, 10)]
    with pytest.raises(ValueError, match=r"Shard\(rank=2, world_size=2\) is no rank"):
        Shard(2, 2)


def test_two_shards_summed_give_one_process_value_and_leave_training_rng_alone() -> None:
    torch.manual_seed(0)
    data = {"train": Points(30, seed=1), "valid": Points(30, seed=2)}
    optimization = AdamBatchOptimization(Noisy(), data, batch_size=10, lr=1e-3)
    evaluation = ELBOEvaluation(25, ("train", "valid"), batch_size=4)
    state = torch.get_rng_state()

    whole = evaluation.evaluate(optimization)
    partials: list[Tensor] = []
    evaluation.evaluate_shard(optimization, Shard(1, 2, sum=lambda t: partials.append(t) or t))
    shared = evaluation.evaluate_shard(optimization, Shard(0, 2, sum=lambda t: t + partials[0]))

    assert shared.values == pytest.approx(whole.values, rel=1e-12)
    assert evaluation.evaluate(optimization).values == whole.values  # the same noise each time
    assert torch.equal(torch.get_rng_state(), state)  # training draws as if nothing ran
