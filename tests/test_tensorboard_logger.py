"""TensorBoardEntryLogger: every entry kind, read back from the event file it wrote."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on test machines

import matplotlib.pyplot as plt
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dlconf.evaluation import ImageEntry, PlotEntry, ScalarEntry, ScalarsEntry
from dlconf.loggers import EntryLogger, TensorBoardEntryLogger


def written(log_dir: Path) -> EventAccumulator:
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


@pytest.fixture
def events(tmp_path: Path) -> EventAccumulator:
    """A run's events after logging one entry of each kind at steps 3 and 7."""
    logger = TensorBoardEntryLogger(save_dir=str(tmp_path))
    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    counters = {"epoch": 0, "global_step": 3, "iteration": 30}

    logger.log("Loss", ScalarEntry(0.25), step=3, counters=counters)
    logger.log("ELBO", ScalarsEntry({"Train": -80.5, "Validation": -90.0}), 3, counters)
    logger.log("Images/Samples", ImageEntry(torch.rand(3, 8, 20)), 3, counters)
    logger.log("Plots/Curve", PlotEntry(figure), 7, {"epoch": 1, "global_step": 7, "iteration": 70})
    logger.finalize("success")

    assert not plt.fignum_exists(figure.number), "the logger closes figures it wrote"
    return written(tmp_path / "tensorboard")


def test_event_files_land_in_the_tensorboard_folder(tmp_path: Path) -> None:
    logger = TensorBoardEntryLogger(save_dir=str(tmp_path))
    logger.log("Loss", ScalarEntry(1.0), 0, {})
    logger.finalize("success")

    assert logger.log_dir == str(tmp_path / "tensorboard")
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_it_is_an_entry_logger(tmp_path: Path) -> None:
    assert isinstance(TensorBoardEntryLogger(save_dir=str(tmp_path)), EntryLogger)


@pytest.mark.parametrize(
    ("tag", "steps", "values"),
    [
        ("Loss", [3], [0.25]),
        ("ELBO/Train", [3], [-80.5]),
        ("ELBO/Validation", [3], [-90.0]),
        # Counters once per step, however many entries that step logged.
        ("counters/iteration", [3, 7], [30, 70]),
        ("counters/epoch", [3, 7], [0, 1]),
        ("counters/global_step", [3, 7], [3, 7]),
    ],
)
def test_scalars_are_written_under_their_names(
    events: EventAccumulator, tag: str, steps: list[int], values: list[float]
) -> None:
    scalars = events.Scalars(tag)
    assert [event.step for event in scalars] == steps
    assert [event.value for event in scalars] == pytest.approx(values)


@pytest.mark.parametrize(
    ("tag", "step", "size"),
    [
        ("Images/Samples", 3, (20, 8)),  # (width, height) of the (3, 8, 20) grid
        ("Plots/Curve", 7, None),  # matplotlib chooses the figure's pixel size
    ],
)
def test_images_and_figures_are_written_as_images(
    events: EventAccumulator, tag: str, step: int, size: tuple[int, int] | None
) -> None:
    (image,) = events.Images(tag)
    assert image.step == step
    assert image.encoded_image_string.startswith(b"\x89PNG")
    if size is not None:
        assert (image.width, image.height) == size
