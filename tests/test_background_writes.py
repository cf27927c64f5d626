"""Logging off the training thread: order, bounded queue, errors that surface, nothing lost.

The writer is tested alone with writes that block on an event (no sleeping to hope a
thread ran); the loggers are read back from the files they wrote: TensorBoard's event file
and the offline W&B run, after a burst of images through a queue of two places.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import Tensor, nn

from dlconf.evaluation import ImageEntry, ScalarEntry
from dlconf.loggers import TensorBoardEntryLogger
from dlconf.loggers.background import BackgroundWriter, WriteError
from dlconf.loggers.wandb import WandbEntryLogger
from tests.test_wandb_logger import offline_wandb, only_run

__all__ = ["offline_wandb"]  # autouse: W&B offline, in tmp_path, for every test here

IMAGES = 30


def events(log_dir: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def fail() -> None:
    raise OSError("disk full")


# The writer alone.


def test_writes_run_in_the_order_they_were_queued() -> None:
    writer = BackgroundWriter("test")
    done: list[int] = []
    for i in range(20):
        writer.submit(f"write {i}", lambda i=i: done.append(i))
    writer.close()
    assert done == list(range(20))


def test_queueing_does_not_wait_for_the_write_and_flush_does() -> None:
    writer = BackgroundWriter("test")
    release, done = threading.Event(), threading.Event()
    writer.submit("slow", lambda: (release.wait(10), done.set()))
    assert not done.is_set() and writer.pending == 1  # submit came back mid-write
    release.set()
    writer.flush()
    assert done.is_set() and writer.pending == 0
    writer.close()


def test_a_full_queue_makes_the_next_log_wait_instead_of_dropping() -> None:
    writer = BackgroundWriter("test", max_pending=2)
    started, release = threading.Event(), threading.Event()
    written: list[int] = []
    writer.submit("blocked", lambda: (started.set(), release.wait(10), written.append(0)))
    started.wait(10)
    writer.submit("queued", lambda: written.append(1))
    writer.submit("queued", lambda: written.append(2))  # 2 waiting: the queue is full
    fourth = threading.Thread(target=writer.submit, args=("fourth", lambda: written.append(3)))
    fourth.start()
    fourth.join(timeout=0.2)
    assert fourth.is_alive(), "the fourth write was queued past the bound"
    release.set()
    fourth.join(timeout=10)
    writer.close()
    assert written == [0, 1, 2, 3]


def test_a_failed_write_surfaces_at_the_next_log_call() -> None:
    writer = BackgroundWriter("test")
    writer.submit("'Images/Samples' at step 3", fail)
    writer._queue.join()  # the write has failed by now
    with pytest.raises(WriteError, match=r"writing 'Images/Samples' at step 3 failed.*disk full"):
        writer.submit("next", lambda: None)
    writer.close()  # surfaced once, not again


def test_a_failed_write_surfaces_at_close_with_its_cause() -> None:
    writer = BackgroundWriter("test")
    for _ in range(3):
        writer.submit("entry", fail)
    with pytest.raises(WriteError, match=r"\(2 later writes failed too\)") as raised:
        writer.close()
    assert isinstance(raised.value.__cause__, OSError)


def test_when_the_run_already_failed_a_write_error_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = BackgroundWriter("test")
    writer.submit("entry", fail)
    with caplog.at_level(logging.ERROR):
        writer.close_for("failed")
    assert "writer failed while the run was failing" in caplog.text
    assert "disk full" in caplog.text


def test_unthreaded_writes_happen_in_the_call() -> None:
    writer = BackgroundWriter("test", threaded=False)
    done: list[str] = []
    writer.submit("now", lambda: done.append(threading.current_thread().name))
    assert done == [threading.current_thread().name]


# The loggers: no image lost, errors surface.


def test_tensorboard_keeps_every_image_of_a_burst(tmp_path: Path) -> None:
    logger = TensorBoardEntryLogger(save_dir=str(tmp_path), max_pending=2)
    for step in range(IMAGES):
        logger.log("Images/Samples", ImageEntry(torch.full((1, 4, 6), step / IMAGES)), step, {})
    logger.finalize("success")

    images = events(tmp_path / "tensorboard").Images("Images/Samples")
    assert [image.step for image in images] == list(range(IMAGES))
    assert all((image.width, image.height) == (6, 4) for image in images)


def test_wandb_keeps_every_image_of_a_burst(tmp_path: Path) -> None:
    logger = WandbEntryLogger(save_dir=str(tmp_path / "run"), project="tests", max_pending=2)
    for step in range(IMAGES):
        logger.log("Images/Samples", ImageEntry(torch.rand(3, 4, 6)), step, {"epoch": 0})
    logger.finalize("success")

    run = only_run(tmp_path / "run")
    rows = run.rows_with("Images/Samples")
    assert [row["trainer/global_step"] for row in rows] == list(range(IMAGES))
    media = {row["Images/Samples"]["path"] for row in rows}
    assert len(media) == IMAGES and all((run.files / path).is_file() for path in media)


@pytest.mark.parametrize("kind", ["tensorboard", "wandb"])
def test_a_write_that_fails_surfaces_at_the_next_log_call(tmp_path: Path, kind: str) -> None:
    logger: Any = (
        TensorBoardEntryLogger(save_dir=str(tmp_path))
        if kind == "tensorboard"
        else WandbEntryLogger(save_dir=str(tmp_path / "run"), project="tests")
    )
    logger.log("Images/Broken", ImageEntry(torch.rand(5)), 3, {})  # not (C, H, W)
    logger._writes._queue.join()  # the write has failed by now
    with pytest.raises(WriteError, match=rf"{kind} logger: writing 'Images/Broken' at step 3"):
        logger.log("Loss", ScalarEntry(1.0), 4, {})
    logger.finalize("success")


class _Images(Callback):
    """Logs an image every step, then fails at step ``fail_at`` as a bug would."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at

    def on_train_batch_end(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        step = trainer.global_step
        if step == self.fail_at:
            raise RuntimeError("a bug at step 4")
        for logger in trainer.loggers:
            assert isinstance(logger, TensorBoardEntryLogger)
            logger.log("Images/Step", ImageEntry(torch.rand(1, 4, 4)), step, {})


class _Tiny(LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch: list[Tensor], batch_idx: int) -> Tensor:
        return self.layer(batch[0]).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self) -> torch.utils.data.DataLoader[Any]:
        data = torch.utils.data.TensorDataset(torch.randn(16, 2))
        return torch.utils.data.DataLoader(data, batch_size=2)


def test_a_run_that_fails_still_writes_every_image_it_logged(tmp_path: Path) -> None:
    logger = TensorBoardEntryLogger(save_dir=str(tmp_path), max_pending=1)
    trainer = Trainer(
        logger=logger,
        callbacks=[_Images(fail_at=4)],
        max_steps=8,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        accelerator="cpu",
    )
    with pytest.raises(RuntimeError, match="a bug at step 4"):
        trainer.fit(_Tiny())  # Lightning calls logger.finalize("failed") on the way out

    images = events(tmp_path / "tensorboard").Images("Images/Step")
    assert [image.step for image in images] == [1, 2, 3]
