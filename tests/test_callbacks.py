"""Duration callbacks on a real Trainer: when they stop, when they evaluate, what they log.

The model is a 2-to-1 linear regression trained on 5 samples with batch size 1, so one
epoch is 5 global steps and 5 iterations. Time never comes from the wall: the training
clock reads a fake that test callbacks and evaluations advance.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import Logger
from lightning.pytorch.strategies import SingleDeviceStrategy
from torch import Tensor, nn
from torch.utils.data import Dataset

from dlconf.callbacks import EvaluationCallback, TrainForCallback, TrainingClock
from dlconf.data import Batch, Sample
from dlconf.durations import Duration, parse_duration
from dlconf.errors import DurationError
from dlconf.evaluation import Evaluation, LogEntry, ScalarEntry, ScalarsEntry
from dlconf.optimization import AdamBatchOptimization, Optimization

STEPS_PER_EPOCH = 5


class FakeTime:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Regression(nn.Module):
    """``y ~ w.x + b``, with a dropout kept in eval mode on purpose (a frozen part)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.frozen = nn.Dropout(0.5).eval()

    def compute_loss(self, batch: Batch) -> dict[str, Tensor]:
        error = self.linear(batch["x"]).squeeze(-1) - batch["y"]  # (B,)
        return {"loss": (error**2).mean()}


class Points(Dataset[Sample]):
    def __len__(self) -> int:
        return STEPS_PER_EPOCH

    def __getitem__(self, index: int) -> Sample:
        return {"x": torch.tensor([float(index), 1.0]), "y": torch.tensor(2.0 * index)}


class Recorder(Logger):
    """An EntryLogger that keeps what it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[str, LogEntry, int, dict[str, int]]] = []

    @property
    def name(self) -> str:
        return "recorder"

    @property
    def version(self) -> str:
        return "0"

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        pass

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, name: str, entry: LogEntry, step: int, counters: Mapping[str, int]) -> None:
        self.entries.append((name, entry, step, dict(counters)))

    def steps(self, name: str) -> list[int]:
        return [step for logged, _, step, _ in self.entries if logged == name]

    def values(self, name: str) -> list[LogEntry]:
        return [entry for logged, entry, _, _ in self.entries if logged == name]


class Score(Evaluation):
    """``Score/Validation`` is the global step; each call takes ``seconds`` of fake time."""

    def __init__(self, time: FakeTime, seconds: float = 0.0) -> None:
        self.time = time
        self.seconds = seconds
        self.seen: list[tuple[bool, bool]] = []  # (model in train mode, gradients enabled)

    def evaluate(self, optimization: Optimization) -> ScalarsEntry:
        self.seen.append((optimization.model.training, torch.is_grad_enabled()))
        self.time.now += self.seconds
        return ScalarsEntry({"Validation": float(optimization.trainer.global_step)})


class Tick(Callback):
    """Every training batch takes ``seconds`` of fake time."""

    def __init__(self, time: FakeTime, seconds: float) -> None:
        self.time = time
        self.seconds = seconds

    def on_train_batch_start(self, *args: Any, **kwargs: Any) -> None:
        self.time.now += self.seconds


def fit(
    *callbacks: Callback,
    logger: Logger | None = None,
    max_steps: int = -1,
    ckpt_path: str | None = None,
    checkpoint: ModelCheckpoint | None = None,
) -> tuple[Trainer, AdamBatchOptimization]:
    torch.manual_seed(0)
    optimization = AdamBatchOptimization(Regression(), {"train": Points()}, batch_size=1, lr=0.01)
    trainer = Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=1000,  # the callbacks under test decide when to stop
        max_steps=max_steps,
        callbacks=[*callbacks, *([checkpoint] if checkpoint else [])],
        logger=logger if logger is not None else False,
        enable_checkpointing=checkpoint is not None,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(optimization, ckpt_path=ckpt_path)
    return trainer, optimization


def evaluate_every(
    every: str, time: FakeTime, clock: TrainingClock, seconds: float = 0.0
) -> EvaluationCallback:
    return EvaluationCallback(
        "Score", Score(time, seconds), parse_duration(every, ["iteration"]), clock
    )


def train_for(text: str, clock: TrainingClock) -> TrainForCallback:
    return TrainForCallback(parse_duration(text, ["iteration"]), clock)


# ---------------------------------------------------------------------------- train_for


@pytest.mark.parametrize(
    ("duration", "seconds_per_batch", "steps"),
    [
        ("7 global_steps", 0.0, 7),
        ("2 epochs", 0.0, 2 * STEPS_PER_EPOCH),  # at the end of the second epoch
        ("3 iterations", 0.0, 3),  # the optimization's own counter
        ("0.5 seconds", 0.125, 4),
        ("1 minute", 20.0, 3),
    ],
)
def test_train_for_stops_when_the_duration_is_reached(
    duration: str, seconds_per_batch: float, steps: int
) -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    callback = train_for(duration, clock)

    trainer, optimization = fit(callback, Tick(time, seconds_per_batch))

    assert callback.reached
    assert trainer.global_step == steps
    assert optimization.counters["iteration"] == steps


def test_train_for_time_excludes_evaluation() -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    # Every step spends 0.25 s training and 100 s evaluating: 4 steps make 1 s of training.
    callbacks = [train_for("1 second", clock), evaluate_every("1 global_step", time, clock, 100.0)]

    trainer, _ = fit(*callbacks, Tick(time, 0.25))

    assert trainer.global_step == 4
    assert clock.elapsed == 1.0
    assert time.now == 4 * 0.25 + 5 * 100.0  # evaluated at steps 0, 1, 2, 3, 4


def test_train_for_takes_rank_zeros_time_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under DDP each rank reads its own clock; rank 0's answer is the one every rank uses.
    def rank_zero_says_not_yet(self: SingleDeviceStrategy, obj: object, src: int = 0) -> object:
        return False if isinstance(obj, bool) else obj

    monkeypatch.setattr(SingleDeviceStrategy, "broadcast", rank_zero_says_not_yet)
    time = FakeTime()
    callback = train_for("0.5 seconds", TrainingClock(time))

    trainer, _ = fit(callback, Tick(time, 1.0), max_steps=6)

    assert not callback.reached
    assert trainer.global_step == 6


def test_train_for_a_counter_the_optimization_lacks_fails_at_fit_start() -> None:
    callback = TrainForCallback(Duration(3, "generator_step"), TrainingClock())

    with pytest.raises(DurationError) as error:
        fit(callback)

    assert str(error.value) == (
        "train_for='3 generator_steps' counts generator_steps, but AdamBatchOptimization "
        "keeps no such counter; units: second, minute, hour, day, epoch, global_step, iteration"
    )


# --------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    ("every", "stop", "seconds_per_batch", "steps"),
    [
        # at train start, every `every`, at train end; never twice at one step
        ("3 global_steps", "10 global_steps", 0.0, [0, 3, 6, 9, 10]),
        ("3 global_steps", "9 global_steps", 0.0, [0, 3, 6, 9]),
        ("4 iterations", "10 global_steps", 0.0, [0, 4, 8, 10]),
        ("2 epochs", "5 epochs", 0.0, [0, 10, 20, 25]),
        ("1 second", "10 global_steps", 0.25, [0, 4, 8, 10]),
    ],
)
def test_evaluation_runs_at_start_every_interval_and_at_end(
    every: str, stop: str, seconds_per_batch: float, steps: list[int]
) -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    logger = Recorder()
    callback = evaluate_every(every, time, clock)

    fit(callback, train_for(stop, clock), Tick(time, seconds_per_batch), logger=logger)

    assert logger.steps("Score") == steps
    assert callback.evaluations == len(steps)
    assert callback.last_step == steps[-1]


def test_evaluation_logs_its_time_and_the_counters() -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    logger = Recorder()

    fit(evaluate_every("3 global_steps", time, clock, 2.5), logger=logger, max_steps=7)

    assert logger.steps("EvaluationTime/Score") == [0, 3, 6, 7]
    assert logger.values("EvaluationTime/Score") == [ScalarEntry(2.5)] * 4
    assert logger.values("Score")[1] == ScalarsEntry({"Validation": 3.0})
    counters = [counters for name, _, _, counters in logger.entries if name == "Score"]
    assert counters == [
        {"epoch": 0, "global_step": 0, "iteration": 0},
        {"epoch": 0, "global_step": 3, "iteration": 3},
        {"epoch": 1, "global_step": 6, "iteration": 6},
        # Once training ends Lightning counts the interrupted epoch as done.
        {"epoch": 2, "global_step": 7, "iteration": 7},
    ]


def test_evaluation_puts_its_numbers_where_checkpoints_can_monitor_them(tmp_path: Path) -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    # `Score/Validation` is the step of the evaluation: the best (max) is the last periodic one.
    checkpoint = ModelCheckpoint(
        dirpath=tmp_path, monitor="Score/Validation", mode="max", every_n_train_steps=3
    )

    trainer, _ = fit(
        evaluate_every("3 global_steps", time, clock), max_steps=8, checkpoint=checkpoint
    )

    assert trainer.callback_metrics["Score/Validation"] == torch.tensor(8.0)  # the final one
    assert checkpoint.best_model_score == torch.tensor(6.0)
    assert Path(checkpoint.best_model_path).name == "epoch=1-step=6.ckpt"


def test_evaluation_runs_in_eval_mode_without_gradients_and_restores_modes() -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    evaluation = Score(time)
    modes: list[tuple[bool, bool]] = []

    class Probe(Callback):
        def on_train_batch_start(
            self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
        ) -> None:
            model = cast(Regression, cast(Optimization, pl_module).model)
            modes.append((model.linear.training, model.frozen.training))

    callback = EvaluationCallback("Score", evaluation, parse_duration("1 global_step"), clock)
    fit(callback, Probe(), max_steps=3)

    assert evaluation.seen == [(False, False)] * 4
    assert modes == [(True, False)] * 3  # the frozen part stays frozen


def test_only_rank_zero_evaluates_and_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    logger = Recorder()
    evaluation = Score(time)
    callback = EvaluationCallback("Score", evaluation, parse_duration("3 global_steps"), clock)
    monkeypatch.setattr(Trainer, "is_global_zero", property(lambda self: False))

    trainer, _ = fit(callback, logger=logger, max_steps=4)

    assert evaluation.seen == []
    assert logger.entries == []
    assert callback.evaluations == 3  # it still kept the rhythm: steps 0, 3, 4
    assert "Score/Validation" not in trainer.callback_metrics


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: EvaluationCallback(
                " ", Score(FakeTime()), Duration(1, "epoch"), TrainingClock()
            ),
            "EvaluationCallback(name=' ') needs a non-empty name",
        ),
        (
            lambda: EvaluationCallback(
                "ELBO", Score(FakeTime()), Duration(0, "epoch"), TrainingClock()
            ),
            "EvaluationCallback(name='ELBO', every=Duration(amount=0, unit='epoch')) needs a "
            "positive Duration, e.g. parse_duration('1 minute')",
        ),
        (
            lambda: TrainForCallback(Duration(-1, "second"), TrainingClock()),
            "TrainForCallback(duration=Duration(amount=-1, unit='second')) must be positive, "
            "e.g. parse_duration('10 epochs')",
        ),
    ],
)
def test_bad_arguments_are_quoted(build: Any, message: str) -> None:
    with pytest.raises(ValueError) as error:
        build()
    assert str(error.value) == message


# ------------------------------------------------------------------------------- resume


def callbacks_of_a_run(time: FakeTime, train_for_text: str) -> list[Callback]:
    """Two evaluations (each under its own checkpoint state key), a budget, 0.25 s steps."""
    clock = TrainingClock(time)
    return [
        evaluate_every("3 global_steps", time, clock),
        EvaluationCallback("Other", Score(time), parse_duration("2 global_steps"), clock),
        train_for(train_for_text, clock),
        Tick(time, 0.25),
    ]


@pytest.fixture
def step_3_checkpoint(tmp_path: Path) -> str:
    """A run saved after step 3 (0.75 s of training), when "Score" had evaluated at 0 and 3
    and "Other" at 0 and 2; the run itself went on to step 4."""
    checkpoint = ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=3, save_top_k=-1)
    logger = Recorder()
    fit(
        *callbacks_of_a_run(FakeTime(), "1.5 seconds"),
        logger=logger,
        max_steps=4,
        checkpoint=checkpoint,
    )
    assert (logger.steps("Score"), logger.steps("Other")) == ([0, 3, 4], [0, 2, 4])
    return str(tmp_path / "epoch=0-step=3.ckpt")


def test_a_resumed_run_continues_its_time_budget_and_evaluation_rhythm(
    step_3_checkpoint: str,
) -> None:
    time = FakeTime()
    callbacks = callbacks_of_a_run(time, "1.5 seconds")
    logger = Recorder()

    trainer, _ = fit(*callbacks, logger=logger, ckpt_path=step_3_checkpoint)

    # 0.75 s of budget left make 3 more steps.
    assert trainer.global_step == 6
    assert time.now == 0.75
    # A resumed run keeps each evaluation's rhythm, as if never interrupted: "Score"
    # evaluated step 3 before the checkpoint, so its next is 6; "Other" last evaluated
    # step 2, so its next is 4, then 6 (also the end).
    assert logger.steps("Score") == [6]
    assert logger.steps("Other") == [4, 6]


def test_a_resumed_run_whose_budget_is_spent_does_not_train(step_3_checkpoint: str) -> None:
    time = FakeTime()
    callbacks = callbacks_of_a_run(time, "0.5 seconds")

    trainer, _ = fit(*callbacks, ckpt_path=step_3_checkpoint)

    assert trainer.global_step == 3
    assert time.now == 0.0  # not one batch


# -------------------------------------------------------------------------------- clock


@pytest.mark.parametrize(
    ("script", "elapsed"),
    [
        # (action, seconds of fake time passing after it)
        ([("start", 2.0)], 2.0),
        ([("pause", 2.0)], 0.0),  # never started
        ([("start", 1.0), ("start", 1.0)], 2.0),  # a second start changes nothing
        ([("start", 1.0), ("pause", 5.0), ("resume", 1.0)], 2.0),
        ([("start", 1.0), ("pause", 5.0), ("pause", 5.0), ("resume", 5.0), ("resume", 1.0)], 2.0),
        ([("start", 1.0), ("stop", 5.0), ("start", 1.0)], 2.0),
        ([("start", 1.0), ("stop", 5.0), ("stop", 5.0)], 1.0),
        ([("pause", 1.0), ("start", 5.0), ("resume", 1.0)], 1.0),  # paused before start
        ([("restore", 10.0), ("start", 1.0)], 11.0),
    ],
)
def test_the_clock_counts_only_unpaused_started_time(
    script: list[tuple[str, float]], elapsed: float
) -> None:
    time = FakeTime()
    clock = TrainingClock(time)
    for action, seconds in script:
        if action == "restore":
            clock.restore(seconds)
            continue
        getattr(clock, action)()
        time.now += seconds
    assert clock.elapsed == elapsed


def test_the_clock_refuses_a_resume_without_a_pause() -> None:
    with pytest.raises(RuntimeError, match="without a matching pause"):
        TrainingClock().resume()
