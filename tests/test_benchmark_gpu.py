"""``python -m benchmarks.gpu``, the one-call GPU check, and the pure parts it is made of.

The check runs for real only where a CUDA GPU is; here it runs ``--quick`` on the CPU, in
a subprocess exactly as a user starts it, so every path that does not need CUDA (the hand
loop, dlconf's run through the real runner in fp32 and bf16-mixed, the CelebA loader and
both CelebA steps, the tables, the verdict, the budget line) keeps working. The parts that
decide what the tables say (utilisation parsing, pairing rounds, the verdict, the budget,
the synchronised window of the step clock) are checked directly, in process. Where a CUDA
GPU is visible, ``--quick --device cuda`` runs too, every row included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

from benchmarks.gpu import QUICK_CPU_COMPILE, Budget, chosen_device
from benchmarks.gpu_loops import WindowClock
from benchmarks.gpu_report import (
    BUDGET_SKIPPED,
    CelebAResult,
    Measurement,
    Pair,
    celeba_table,
    mnist_table,
    summarise_skipped,
)
from benchmarks.gpu_utilisation import Sampler, format_utilisation, parse_nvidia_smi
from tests.conftest import ROOT


def table_rows(out: str, title: str) -> dict[str, list[str]]:
    """The Markdown table whose first header cell starts with ``title``: row label -> cells."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {title}"))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def number(cell: str) -> float:
    return float(cell.removesuffix("x").replace(",", ""))


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WANDB_MODE": "offline", "CUDA_VISIBLE_DEVICES": ""}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.perf_counter() - start < 120, "--quick must stay a quick check"
    return done


def test_quick_run_prints_the_mnist_table_with_positive_rates_and_ratios(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    out = quick_run.stdout
    assert "GPU check on cpu" in out and "CPU cores" in out  # the machine line
    rows = table_rows(out, "MNIST VAE on cpu, batch 128, data on the device")
    assert list(rows) == ["fp32", "bf16-mixed", "fp32, torch.compile"]
    for label in ("fp32", "bf16-mixed"):
        hand, dlconf, ratio, util_hand, util_dlconf = rows[label]
        assert number(hand) > 0 and number(dlconf) > 0, rows[label]
        # The ratio is dlconf over the hand loop of the same (single) round.
        assert number(ratio) == pytest.approx(number(dlconf) / number(hand), rel=0.02)
        assert (util_hand, util_dlconf) == ("n/a", "n/a")  # no GPU to sample
    assert rows["fp32, torch.compile"][0] == QUICK_CPU_COMPILE


def test_quick_run_measures_the_celeba_loader_against_the_step_it_feeds(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    out = quick_run.stdout
    rows = table_rows(out, "CelebA 40 x 32, batch 8, on cpu")
    loader, resident, fed = (
        rows["celeba_vae's loader alone: 1 worker, copied to cpu"],
        rows["celeba_vae step, batch resident on cpu (32-true)"],
        rows["dlconf celeba_vae fed by the loader (32-true)"],
    )
    for samples, batches in (loader[:2], resident[:2], fed[:2]):
        assert number(samples) == pytest.approx(8 * number(batches), rel=0.02)
        assert number(batches) > 0
    assert resident[2] == "1.00x"
    share = number(loader[2])
    assert share == pytest.approx(number(loader[1]) / number(resident[1]), rel=0.02)
    verdict = "it keeps up." if share >= 1 else "it does not keep up"
    assert f"The CelebA loader delivers {share:.2f}x the batches the step consumes: " in out
    assert verdict in out


def test_quick_run_reports_its_time_against_the_budget_and_no_failure(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    out = quick_run.stdout
    assert "GPU utilisation: n/a" in out
    assert "s of a 420 s budget." in out and "skipped for time" not in out
    assert "Failed" not in out
    assert "Traceback" not in quick_run.stderr


@pytest.mark.quick
def test_nvidia_smi_output_is_read_as_a_percentage_or_nothing() -> None:
    assert parse_nvidia_smi("37\n") == 37.0  # --format=csv,noheader,nounits
    assert parse_nvidia_smi("37 %\n") == 37.0  # --format=csv,noheader
    assert parse_nvidia_smi("[N/A]\n") is None  # a GPU that does not report it
    assert parse_nvidia_smi("No devices were found\n") is None
    assert parse_nvidia_smi("150\n") is None  # not a percentage
    assert parse_nvidia_smi("") is None


@pytest.mark.quick
def test_utilisation_cells_average_the_readings_or_say_not_available() -> None:
    assert format_utilisation([]) == "n/a"
    assert format_utilisation([50.0, 70.0]) == "60%"
    assert format_utilisation([99.6]) == "100%"


@pytest.mark.quick
def test_sampler_keeps_only_readings_taken_inside_an_open_window() -> None:
    calls: list[float] = []

    def reader() -> float:  # a reading that says when it was taken
        calls.append(time.perf_counter())
        return 40.0 + len(calls) % 2 * 20.0  # 60, 40, 60, ...

    with Sampler(reader, interval=0.01, settle=0.0) as sampler:
        time.sleep(0.05)
        assert calls == [] and sampler.readings() == []  # no window yet: nothing read
        sampler.open()
        time.sleep(0.1)
        sampler.close()
        kept = sampler.readings()
        time.sleep(0.05)
        assert sampler.readings() == kept  # nothing added once closed
    assert len(kept) >= 3 and set(kept) <= {40.0, 60.0}
    assert not Sampler(None).available and Sampler(None).readings() == []


@pytest.mark.quick
def test_window_clock_opens_the_sampler_for_exactly_the_timed_steps() -> None:
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    sampler = Sampler(None)
    clock = WindowClock(device=torch.device("cpu"), skip=2, steps=5, sampler=sampler)
    open_after: list[bool] = []
    with clock:
        for _ in range(9):
            optimizer.zero_grad()
            torch.autograd.backward(weight.sum())
            optimizer.step()  # pyright: ignore[reportUnknownMemberType]  (torch leaves it untyped)
            open_after.append(sampler.is_open)
    # Stamps 0..8 end steps 1..9; the window is stamp 2 (end of step 3) to stamp 7.
    assert open_after == [False, False, True, True, True, True, True, False, False]
    cost = clock.window()
    assert cost.wall == pytest.approx((clock.stamps[7] - clock.stamps[2]) / 5)


@pytest.mark.quick
def test_ratios_pair_the_rounds_both_sides_ran_in() -> None:
    pair = Pair(
        hand={0: Measurement(100.0), 1: Measurement(200.0)},
        dlconf={1: Measurement(100.0), 2: Measurement(50.0)},
    )
    assert pair.ratios() == [0.5]  # round 1 only: round 0 lost dlconf, round 2 the hand loop
    table = mnist_table(
        {"fp32": pair, "bf16-mixed": Pair(hand={0: Measurement(10.0, [80.0, 90.0])})}, "cuda"
    )
    (fp32, bf16) = table.rows
    assert list(fp32) == ["fp32", "150", "75", "0.500x", "n/a", "n/a"]
    assert list(bf16) == ["bf16-mixed", "10", BUDGET_SKIPPED, BUDGET_SKIPPED, "85%", "n/a"]
    assert str(table).splitlines()[0].startswith("| MNIST VAE on cuda, batch 128")


@pytest.mark.quick
def test_celeba_verdict_compares_delivered_and_consumed_batches() -> None:
    fast = CelebAResult(workers=8, batch=64, precision="bf16-mixed", loader=30.0)
    fast.resident = Measurement(64 * 20.0, [95.0])
    assert fast.verdict() == (
        "The CelebA loader delivers 1.50x the batches the step consumes: it keeps up."
    )
    slow = CelebAResult(workers=2, batch=64, precision="bf16-mixed", loader=10.0)
    slow.resident = Measurement(64 * 20.0)
    assert "0.50x" in slow.verdict() and "does not keep up with 2 workers" in slow.verdict()
    skipped = CelebAResult(workers=2, batch=64, precision="bf16-mixed", loader=10.0)
    assert skipped.verdict().startswith("No verdict")
    rows = {row[0]: row[1:] for row in celeba_table(fast, "cuda").rows}
    assert rows["celeba_vae's loader alone: 8 workers, pinned, copied to cuda"] == [
        "1,920",
        "30.0",
        "1.50x",
        "-",
    ]
    assert rows["dlconf celeba_vae fed by the loader (bf16-mixed)"][:2] == [
        BUDGET_SKIPPED,
        BUDGET_SKIPPED,
    ]


@pytest.mark.quick
def test_budget_skips_what_would_overrun_and_survives_a_failure() -> None:
    budget = Budget(seconds=60.0)
    ran: list[str] = []
    assert budget.run("a", "first", guess=1.0, work=lambda: ran.append("first"))
    assert not budget.run("b", "too long", guess=120.0, work=lambda: ran.append("too long"))

    def broken() -> None:
        raise RuntimeError("CUDA error: out of memory\nmore detail")

    assert not budget.run("c", "broken", guess=1.0, work=broken)
    assert budget.run("a", "again", guess=1.0, work=lambda: ran.append("again"))
    budget.last["a"] = 61.0  # a kind is estimated by its last run, not by its guess
    assert not budget.run("a", "third", guess=1.0, work=lambda: ran.append("third"))
    assert ran == ["first", "again"]
    assert budget.skipped == ["too long", "third"]
    assert budget.failed == ["broken: RuntimeError: CUDA error: out of memory"]


@pytest.mark.quick
@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_ends_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        chosen_device("cuda")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --device cuda: no CUDA GPU is visible here")
    assert err.count("\n") == 1 and "--device cpu" in err
    assert chosen_device(None) == torch.device("cpu")


@pytest.mark.quick
def test_what_the_budget_skipped_is_listed_once_per_measurement() -> None:
    skipped = [
        "MNIST fp32 hand (round 3)",
        "CelebA loader alone",
        "MNIST fp32 hand (round 2)",
        "MNIST bf16-mixed dlconf (round 3)",
    ]
    assert summarise_skipped(skipped) == (
        "MNIST fp32 hand (rounds 2, 3), CelebA loader alone, MNIST bf16-mixed dlconf (round 3)"
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_quick_run_on_a_gpu_measures_every_row_compile_included() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu", "--quick", "--device", "cuda"],
        cwd=ROOT,
        env={**os.environ, "WANDB_MODE": "offline"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = table_rows(done.stdout, "MNIST VAE on cuda, batch 128, data on the device")
    for label in ("fp32", "bf16-mixed", "fp32, torch.compile"):
        hand, dlconf, ratio, *utilisation = rows[label]
        assert number(hand) > 0 and number(dlconf) > 0 and number(ratio) > 0, rows[label]
        assert all(cell == "n/a" or cell.endswith("%") for cell in utilisation)
    assert "CelebA 40 x 32, batch 8, on cuda" in done.stdout
    assert "The CelebA loader delivers" in done.stdout
