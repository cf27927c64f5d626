"""The fast data path: in-memory splits batched by index, in an order the run's seed decides.

A tensor-backed split (``tensors()``) is cut into batches by indexing whole tensors; the
order of each epoch comes from ``seed + epoch``, each DDP rank takes the shard Lightning's
``DistributedSampler`` would give it, and a run resumed mid-epoch continues where it was.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.loggers import Logger
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, default_collate

from dlconf.callbacks import TrainForCallback, TrainingClock
from dlconf.data import Sample
from dlconf.durations import parse_duration
from dlconf.errors import NonFiniteLossError
from dlconf.loading import IndexBatchSampler, TensorBacked, TensorBatches, tensors_of
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.data import MNIST
from experiments.mnist.synthetic import SyntheticDigits


class Points(Dataset[Sample]):
    """``x = 0, 1, ..., n-1`` and ``y = 2x``, held as two tensors."""

    def __init__(self, n: int = 12) -> None:
        self.x = torch.arange(n, dtype=torch.float32)[:, None]  # (n, 1)
        self.y = 2 * self.x  # (n, 1)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> Sample:
        return {"x": self.x[index], "y": self.y[index]}

    def tensors(self) -> dict[str, Tensor]:
        return {"x": self.x, "y": self.y}


class PerSamplePoints(Points):
    """The same points without ``tensors()``: only a DataLoader can batch them."""

    tensors = None  # type: ignore[assignment]


class Regression(nn.Module):
    """``y = w x``; remembers the ``x`` of every batch it trains on."""

    def __init__(self, nan_at: int | None = None) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.seen: list[list[float]] = []
        self.nan_at = nan_at

    def compute_loss(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        self.seen.append(batch["x"].flatten().tolist())
        loss = ((self.w * batch["x"] - batch["y"]) ** 2).mean()
        if self.nan_at is not None and len(self.seen) >= self.nan_at:
            loss = loss * float("nan")
        step = torch.tensor(float(len(self.seen)))
        return {"loss": loss, "step": step}


def quiet_trainer(**kwargs: Any) -> Trainer:
    defaults: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
    }
    return Trainer(**{**defaults, **kwargs})


def batches_of(sampler: IndexBatchSampler) -> list[list[int]]:
    return [batch.tolist() for batch in sampler]


# -- which splits are tensor-backed ----------------------------------------------------------


def test_mnist_and_synthetic_splits_give_tensors_that_index_like_their_samples(
    mnist_root: Path,
) -> None:
    for split in (MNIST(str(mnist_root), "valid"), SyntheticDigits("test", size=30)):
        assert isinstance(split, TensorBacked)
        tensors = tensors_of(split)
        assert tensors is not None and set(tensors) == {"x", "y"}
        assert tensors["x"].shape == (len(split), 1, 28, 28)
        for index in (0, 7, len(split) - 1):
            sample = split[index]
            assert torch.equal(tensors["x"][index], sample["x"])
            assert torch.equal(tensors["y"][index], sample["y"])


def test_a_split_without_tensors_is_not_tensor_backed() -> None:
    assert tensors_of(PerSamplePoints()) is None
    assert tensors_of([1, 2, 3]) is None


def test_fields_of_different_lengths_are_refused() -> None:
    class Ragged:
        def tensors(self) -> dict[str, Tensor]:
            return {"x": torch.zeros(5, 2), "y": torch.zeros(4)}

    with pytest.raises(ValueError, match=r"same number of examples, got \{'x': 5, 'y': 4\}"):
        tensors_of(Ragged())


# -- the order of batches --------------------------------------------------------------------


def test_an_epoch_is_one_permutation_cut_into_batches() -> None:
    sampler = IndexBatchSampler(10, batch_size=4, seed=3)
    batches = batches_of(sampler)
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert len(sampler) == 3
    assert sorted(i for batch in batches for i in batch) == list(range(10))


def test_drop_last_leaves_out_the_short_batch() -> None:
    sampler = IndexBatchSampler(10, batch_size=4, drop_last=True)
    assert [len(batch) for batch in batches_of(sampler)] == [4, 4]
    assert len(sampler) == 2


def test_without_shuffle_the_order_is_the_split_s_order() -> None:
    assert batches_of(IndexBatchSampler(5, batch_size=2, shuffle=False)) == [[0, 1], [2, 3], [4]]


def test_the_seed_and_epoch_decide_the_order() -> None:
    first, again = IndexBatchSampler(50, 8, seed=1), IndexBatchSampler(50, 8, seed=1)
    assert batches_of(first) == batches_of(again)
    epoch_0 = batches_of(first)
    first.set_epoch(1)
    assert batches_of(first) != epoch_0
    first.set_epoch(0)
    assert batches_of(first) == epoch_0
    assert batches_of(IndexBatchSampler(50, 8, seed=2)) != epoch_0


@pytest.mark.parametrize(("size", "replicas"), [(10, 3), (64, 4), (2, 3)])
def test_each_rank_takes_the_shard_lightnings_distributed_sampler_gives_it(
    size: int, replicas: int
) -> None:
    for epoch in (0, 1):
        shards = []
        for rank in range(replicas):
            ours = IndexBatchSampler(size, 4, seed=5, num_replicas=replicas, rank=rank)
            ours.set_epoch(epoch)
            theirs = DistributedSampler(
                range(size), num_replicas=replicas, rank=rank, shuffle=True, seed=5
            )
            theirs.set_epoch(epoch)
            assert ours.indices().tolist() == list(theirs)
            shards.append(ours.indices().tolist())
        # The same number of batches everywhere (no rank waits for a step the others skip),
        # and every example in some shard.
        assert len({len(shard) for shard in shards}) == 1
        assert {i for shard in shards for i in shard} == set(range(size))


def test_bad_sampler_arguments_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"batch_size=0"):
        IndexBatchSampler(10, 0)
    with pytest.raises(ValueError, match=r"rank=2\) must be in \[0, num_replicas=2\)"):
        IndexBatchSampler(10, 2, num_replicas=2, rank=2)


# -- the batches -----------------------------------------------------------------------------


def test_batches_equal_the_dataloader_collate_of_the_same_indices() -> None:
    split = SyntheticDigits("valid", size=40)
    sampler = IndexBatchSampler(len(split), batch_size=16, seed=0)
    for indices, batch in zip(sampler, TensorBatches(split.tensors(), sampler), strict=True):
        expected = default_collate([split[i] for i in indices.tolist()])
        assert batch.keys() == expected.keys()
        for name in batch:
            assert torch.equal(batch[name], expected[name])


def test_tensors_and_sampler_must_agree_on_the_size() -> None:
    with pytest.raises(ValueError, match=r"hold \[12\] examples, the sampler indexes 10"):
        TensorBatches(Points().tensors(), IndexBatchSampler(10, 4))


def test_a_resumed_iteration_continues_after_the_batches_already_seen() -> None:
    tensors = Points(20).tensors()
    uninterrupted = [b["x"].flatten().tolist() for b in TensorBatches(tensors, sampler(20))]

    stopped = TensorBatches(tensors, sampler(20))
    iterator = iter(stopped)
    seen = [next(iterator)["x"].flatten().tolist() for _ in range(2)]
    state = stopped.state_dict()
    assert state == {"epoch": 0, "batches": 2}

    resumed = TensorBatches(tensors, sampler(20))
    resumed.load_state_dict(state)
    rest = [b["x"].flatten().tolist() for b in resumed]
    assert seen + rest == uninterrupted
    # Only the resumed epoch is shortened; the next one is whole.
    assert len(list(resumed)) == len(uninterrupted)


def sampler(size: int) -> IndexBatchSampler:
    return IndexBatchSampler(size, batch_size=3, seed=11)


# -- the optimization ------------------------------------------------------------------------


def test_a_tensor_backed_split_is_batched_by_index() -> None:
    optimization = AdamBatchOptimization(Regression(), {"train": Points()}, batch_size=5, lr=0.1)
    loader = optimization.train_dataloader()
    assert isinstance(loader, TensorBatches)
    assert len(loader) == 3
    assert loader.sampler.batch_size == 5


def test_the_dataloader_still_serves_other_splits_with_the_device_s_settings() -> None:
    optimization = AdamBatchOptimization(
        Regression(), {"train": PerSamplePoints()}, batch_size=5, lr=0.1, num_workers=2
    )
    loader = optimization.train_dataloader()
    assert isinstance(loader, DataLoader)
    assert (loader.batch_size, loader.num_workers) == (5, 2)


def test_fast_loading_false_always_takes_the_dataloader() -> None:
    optimization = AdamBatchOptimization(
        Regression(), {"train": Points()}, batch_size=5, lr=0.1, fast_loading=False, pin_memory=True
    )
    loader = optimization.train_dataloader()
    assert isinstance(loader, DataLoader)
    assert loader.pin_memory


def attach(optimization: AdamBatchOptimization, **ddp: Any) -> None:
    """A stand-in for the trainer of one DDP process (``world_size``, ``rank``...)."""
    trainer = SimpleNamespace(
        strategy=SimpleNamespace(broadcast=lambda value: value),
        _accelerator_connector=SimpleNamespace(
            use_distributed_sampler=ddp.get("use_distributed_sampler", True)
        ),
        distributed_sampler_kwargs={"num_replicas": ddp["world_size"], "rank": ddp["rank"]},
    )
    optimization._trainer = cast(Trainer, trainer)


def test_under_ddp_every_process_batches_its_own_shard() -> None:
    shards = []
    for rank in range(3):
        optimization = AdamBatchOptimization(Regression(), {"train": Points(12)}, 2, lr=0.1)
        attach(optimization, world_size=3, rank=rank)
        loader = optimization.train_dataloader()
        assert isinstance(loader, TensorBatches)
        shards.append([x for batch in loader for x in batch["x"].flatten().tolist()])
    assert [len(shard) for shard in shards] == [4, 4, 4]
    assert sorted(x for shard in shards for x in shard) == [float(i) for i in range(12)]


def test_without_the_distributed_sampler_every_process_sees_the_whole_split() -> None:
    optimization = AdamBatchOptimization(Regression(), {"train": Points(12)}, 2, lr=0.1)
    attach(optimization, world_size=3, rank=1, use_distributed_sampler=False)
    loader = optimization.train_dataloader()
    assert isinstance(loader, TensorBatches)
    assert loader.sampler.num_replicas == 1
    assert len(loader) == 6


def train(model: Regression, seed: int = 7, **trainer: Any) -> AdamBatchOptimization:
    seed_everything(seed, verbose=False)
    optimization = AdamBatchOptimization(model, {"train": Points(12)}, batch_size=5, lr=0.05)
    quiet_trainer(**{"max_epochs": 2, **trainer}).fit(optimization)
    return optimization


def test_training_is_deterministic_and_reshuffles_every_epoch() -> None:
    first, again = Regression(), Regression()
    train(first)
    train(again)
    assert first.seen == again.seen
    assert torch.equal(first.w, again.w)
    epoch_0, epoch_1 = first.seen[:3], first.seen[3:]
    assert [len(batch) for batch in epoch_0] == [5, 5, 2]
    for epoch in (epoch_0, epoch_1):
        assert sorted(x for batch in epoch for x in batch) == [float(i) for i in range(12)]
    assert epoch_0 != epoch_1
    other = Regression()
    train(other, seed=8)
    assert other.seen[:3] != epoch_0


def test_data_on_device_keeps_the_split_where_the_model_trains() -> None:
    optimization = AdamBatchOptimization(
        Regression(), {"train": Points()}, batch_size=4, lr=0.1, data_on_device=True
    )
    loader = optimization.train_dataloader()
    assert isinstance(loader, TensorBatches)
    assert loader.device == optimization.device
    assert all(t.device == optimization.device for t in next(iter(loader)).values())


class Capture(Logger):
    """Remembers every ``log_metrics`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int | None, dict[str, float]]] = []

    @property
    def name(self) -> str:
        return "capture"

    @property
    def version(self) -> int:
        return 0

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.calls.append((step, dict(metrics)))

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        del params, args, kwargs


def test_losses_are_logged_on_lightnings_logging_steps_and_the_last_one() -> None:
    logger = Capture()
    stop = TrainForCallback(parse_duration("7 global_steps"), TrainingClock())
    seed_everything(0, verbose=False)
    optimization = AdamBatchOptimization(Regression(), {"train": Points(40)}, 2, lr=0.01)
    quiet_trainer(logger=logger, log_every_n_steps=3, callbacks=[stop]).fit(optimization)
    # Each value is the one computed at the step it is logged at, never a stale one.
    logged = [(step, m["Train/step"]) for step, m in logger.calls if "Train/step" in m]
    assert logged == [(2, 3.0), (5, 6.0), (6, 7.0)]
    assert optimization.counters["iteration"] == 7


def test_a_non_finite_loss_stops_training_before_its_update() -> None:
    model = Regression(nan_at=3)
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at global step 2: loss=nan"):
        train(model, max_epochs=1)
    assert len(model.seen) == 3
    assert torch.isfinite(model.w).all()


def test_compile_model_trains_through_torch_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[object] = []

    def fake_compile(fn: Any) -> Any:
        compiled.append(fn)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    model = Regression()
    seed_everything(0, verbose=False)
    optimization = AdamBatchOptimization(
        model, {"train": Points(12)}, batch_size=6, lr=0.1, compile_model=True
    )
    quiet_trainer(max_epochs=1).fit(optimization)
    assert compiled == [model.compute_loss]
    assert len(model.seen) == 2
