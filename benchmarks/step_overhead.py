"""Step overhead: dlconf's training step against the same loop written by hand.

    python -m benchmarks.step_overhead            # about 3 minutes on 2 CPU cores
    python -m benchmarks.step_overhead --quick    # seconds: checks that it runs
    python -m benchmarks.step_overhead --profile  # where the tiny VAE's step goes (cProfile)
    python -m benchmarks.step_overhead --tiny-only --repeats 7  # the tiny VAE's rows alone

dlconf runs ``experiments.mnist_vae`` as configured (progress bar, TensorBoard logging at
Lightning's 50-step rhythm, the three evaluations at theirs, train_for, checkpoints) in this
process, on MNIST-format IDX files. The hand-written loop trains the same model (built from
the same config and seed) on the same in-memory split with the same batch size and Adam,
batching by index and reading the losses every 50 steps. Both are timed by one optimizer-step
hook over the same steady-state window: after a warm-up, before the end-of-training
evaluation. "tiny VAE" is the same experiment shrunk (16 hidden units, batch 16) until the
per-step overhead dominates the step; its extra rows take parts away to show what costs.

Ratio: dlconf's seconds per step over the hand loop's, the median over interleaved rounds of
the per-round ratio, by the wall clock and in CPU time (see ``benchmarks.timing.Cost``); the
last column, over bare Lightning's in the same round (wall / CPU).
Goals: <= 1.05 over the hand loop for the MNIST VAE; <= 1.10 over bare Lightning for the
tiny VAE (issue 12).
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hydra_zen import instantiate

from benchmarks.timing import Cost, Table, header, interleave, median, parser, setup
from benchmarks.workloads import (
    TINY_MODEL,
    config,
    fit,
    fit_cost,
    hand_loop,
    lightning_loop,
    mnist_root,
)

AS_CONFIGURED = ("logger=tensorboard",)
NO_PROGRESS_BAR = (*AS_CONFIGURED, "trainer.enable_progress_bar=false")
EVERY_STEP = (*AS_CONFIGURED, "optimization._target_=benchmarks.workloads.EveryStepLogging")
LIGHTNING = "Lightning, bare (the floor)"


@dataclass(frozen=True)
class Workload:
    name: str
    overrides: tuple[str, ...]
    skip: int
    steps: int
    variants: dict[str, tuple[str, ...]]


def measure(workload: Workload, data: tuple[str, ...], repeats: int) -> dict[str, list[Cost]]:
    """Interleaved rounds of the hand loop, bare Lightning and each dlconf variant."""
    cfg = config("mnist_vae", [*data, *workload.overrides])
    train = instantiate(cfg.data.train)
    skip, steps = workload.skip, workload.steps

    def hand() -> Cost:
        return hand_loop(cfg, skip + steps + 1, data=train).cost(skip, steps)

    def bare() -> Cost:
        return lightning_loop(cfg, skip + steps + 1, data=train).cost(skip, steps)

    def dlconf(extra: tuple[str, ...]) -> Callable[[], Cost]:
        return lambda: fit_cost("mnist_vae", [*data, *workload.overrides, *extra], skip, steps)

    cases: list[tuple[str, Callable[[], Cost]]] = [("hand", hand), (LIGHTNING, bare)]
    cases += [(label, dlconf(extra)) for label, extra in workload.variants.items()]
    return interleave(cases, repeats)


PROFILED = r"(trainer/call.py|callbacks/|dlconf/|loops/training_epoch_loop)"
"""What the profile lists: Lightning's hook dispatch, every callback, dlconf's own code."""


PER_STEP_HOOKS = (
    "on_train_batch_start",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
    "on_train_batch_end",
)
"""The callback hooks Lightning calls on every training step."""


def dispatch_summary(stats: pstats.Stats, steps: int) -> str:
    """Per step: what Lightning's callback dispatch costs, apart from the callbacks' own work.

    ``_call_callback_hooks`` minus the hooks it calls once a run (train start and end, where
    the evaluations run) is the per-step total; minus what the per-step hooks themselves took,
    it is the dispatch: Lightning's profiler context, ``state_key`` and f-string per callback.
    """
    table: dict[Any, Any] = getattr(stats, "stats")  # noqa: B009 (untyped in typeshed)
    (dispatch,) = [key for key in table if key[2] == "_call_callback_hooks"]
    total = table[dispatch][3]
    hooks_work = once = 0.0
    for key, (*_, callers) in table.items():
        if dispatch not in callers:
            continue
        seconds = callers[dispatch][3]  # cumulative time when called from the dispatch
        if key[2] in PER_STEP_HOOKS:
            hooks_work += seconds
        elif key[2].startswith(("on_", "setup", "teardown")):
            once += seconds
    keys = sum(row[1] for key, row in table.items() if key[2] == "state_key")
    per_step = 1e3 * (total - once) / steps
    return (
        f"per step, profiled: callback hooks {per_step:.3f} ms, of which the callbacks' own "
        f"work {1e3 * hooks_work / steps:.3f} ms and Lightning's dispatch "
        f"{per_step - 1e3 * hooks_work / steps:.3f} ms; {keys / steps:.1f} state_key reads"
    )


def profile(data: tuple[str, ...], steps: int) -> None:
    """cProfile ``steps`` of the tiny VAE, bare Lightning then dlconf as configured."""
    cfg = config("mnist_vae", [*data, *TINY_MODEL])
    train = instantiate(cfg.data.train)
    runs: dict[str, Callable[[], object]] = {
        LIGHTNING: lambda: lightning_loop(cfg, steps, data=train),
        "dlconf as configured": lambda: fit(
            "mnist_vae", [*data, *TINY_MODEL, *AS_CONFIGURED, f"train_for={steps} global_steps"]
        ),
    }
    for label, run in runs.items():
        profiler = cProfile.Profile()
        profiler.runcall(run)
        print(f"\n### {label}: {steps} steps (divide by {steps} for per-step numbers)\n")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(PROFILED, 30)
        print(dispatch_summary(stats, steps))


def main() -> None:
    options = parser(__doc__ or "")
    options.add_argument("--profile", action="store_true", help="profile the tiny VAE's steps")
    options.add_argument("--tiny-only", action="store_true", help="only the tiny VAE's rows")
    args = options.parse_args()
    setup(args)
    repeats = args.repeats or (1 if args.quick else 5)
    root = mnist_root(args.quick)
    data = (f"device.data_root={root}", "device.download_files=false")
    if args.profile:
        profile(data, 50 if args.quick else 1500)
        return
    workloads = [
        Workload(
            "MNIST VAE",
            (),
            skip=10,
            steps=10 if args.quick else 200,
            variants={"dlconf as configured": AS_CONFIGURED}
            if args.quick
            else {
                "dlconf as configured": AS_CONFIGURED,
                "dlconf, self.log every step (before)": EVERY_STEP,
            },
        ),
        Workload(
            "tiny VAE",
            TINY_MODEL,
            skip=20,
            steps=20 if args.quick else 1000,
            variants={"dlconf as configured": AS_CONFIGURED}
            if args.quick
            else {
                "dlconf as configured": AS_CONFIGURED,
                "dlconf, progress bar off": NO_PROGRESS_BAR,
                "dlconf, self.log every step (before)": EVERY_STEP,
            },
        ),
    ]
    if args.tiny_only:
        workloads = [w for w in workloads if w.overrides == TINY_MODEL]
    header("Step overhead: dlconf vs a hand-written loop")
    table = Table(
        ["model", "run", "hand ms/step", "run ms/step", "wall ratio", "CPU ratio", "vs Lightning"]
    )
    for workload in workloads:
        costs = measure(workload, data, repeats)
        for label in [LIGHTNING, *workload.variants]:
            pairs = list(zip(costs["hand"], costs[label], strict=True))
            floor = list(zip(costs[LIGHTNING], costs[label], strict=True))
            table.add(
                workload.name,
                label,
                1e3 * median([h.wall for h in costs["hand"]]),
                1e3 * median([f.wall for f in costs[label]]),
                f"{median([f.wall / h.wall for h, f in pairs]):.3f}x",
                f"{median([f.cpu / h.cpu for h, f in pairs]):.3f}x",
                f"{median([f.wall / b.wall for b, f in floor]):.3f}x / "
                f"{median([f.cpu / b.cpu for b, f in floor]):.3f}x",
            )
    print(table)
    print(f"\n{repeats} interleaved rounds; goal for the MNIST VAE: <= 1.05x.")


if __name__ == "__main__":
    main()
