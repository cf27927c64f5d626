"""TensorBoard, writing dlconf's typed log entries.

Lightning's :class:`~lightning.pytorch.loggers.TensorBoardLogger` keeps doing what it does
(``self.log`` metrics from the optimization, hyper-parameters); this subclass adds
:meth:`TensorBoardEntryLogger.log`, the :class:`~dlconf.loggers.base.EntryLogger` surface
that evaluation callbacks write through, and :meth:`TensorBoardEntryLogger.record_config`,
which writes the run's hyper-parameters (``params.*``) as TensorBoard hparams. Event files
land in ``<save_dir>/tensorboard``.

Entries and Lightning's metrics are written by a background thread
(:mod:`dlconf.loggers.background`): training waits only to queue them; ``finalize``, which
Lightning calls however fit ends, waits for every write.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from torch import Tensor
from typing_extensions import override

from dlconf.evaluation.entries import ImageEntry, LogEntry, ScalarEntry, ScalarsEntry
from dlconf.loggers.background import DEFAULT_MAX_PENDING, BackgroundWriter, snapshot
from dlconf.loggers.flatten import params_config

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from omegaconf import DictConfig


class _Writer(Protocol):
    """The part of TensorBoard's ``SummaryWriter`` used here, typed (torch leaves it untyped)."""

    def add_scalar(self, tag: str, scalar_value: float, global_step: int | None = None) -> None: ...

    def add_image(self, tag: str, img_tensor: Tensor, global_step: int | None = None) -> None: ...

    def add_figure(
        self, tag: str, figure: Figure, global_step: int | None = None, close: bool = True
    ) -> None: ...


class TensorBoardEntryLogger(TensorBoardLogger):
    """A TensorBoard logger that also writes :data:`LogEntry` values.

    Scalars go under the entry's name, grouped scalars under ``<name>/<key>``, images and
    figures as TensorBoard images. Counters (``epoch``, ``iteration``...) are written as
    ``counters/<name>`` once per step, however many entries that step logs.

    Args:
        save_dir: the run folder; events are written to ``<save_dir>/<version>``.
        resume_step: set when the run in ``save_dir`` resumes from a checkpoint at that step.
        run_id: the run's id; TensorBoard has no use for it.
        version: the events' folder in the run folder.
        max_pending: writes that may wait for the writer thread before logging waits.
        background: ``False`` writes in the training thread.
        **kwargs: passed on to :class:`~lightning.pytorch.loggers.TensorBoardLogger`.
    """

    def __init__(
        self,
        save_dir: str,
        resume_step: int | None = None,
        run_id: str | None = None,
        version: str = "tensorboard",
        max_pending: int = DEFAULT_MAX_PENDING,
        background: bool = True,
        **kwargs: Any,
    ) -> None:
        del run_id
        if resume_step is not None:
            # A resumed run writes on in the same folder; TensorBoard drops whatever the
            # interrupted run logged after its checkpoint, so no step appears twice.
            kwargs["purge_step"] = resume_step + 1
        # No experiment name / version folders: dlconf's run folder is already per run.
        super().__init__(save_dir=save_dir, name="", version=version, **kwargs)
        self._counters_step: int | None = None
        self._writes = BackgroundWriter("tensorboard", max_pending, threaded=background)

    @rank_zero_only
    def log(self, name: str, entry: LogEntry, step: int, counters: Mapping[str, int]) -> None:
        """Queue ``entry`` to be written under ``name`` at ``step``, with ``counters``."""
        # Lightning types `experiment` as torch's or tensorboardX's writer, whichever is
        # installed, which pyright cannot resolve; both have this API. Opened here, in the
        # training thread, so the writer thread only ever writes.
        writer = cast(_Writer, self.experiment)  # pyright: ignore[reportUnknownMemberType]
        new_step = step != self._counters_step
        self._counters_step = step
        entry = snapshot(entry)
        counters = dict(counters) if new_step else {}
        self._writes.submit(
            f"{name!r} at step {step}", lambda: _write(writer, name, entry, step, counters)
        )

    @override
    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        # Lightning's own `self.log` metrics: queued too, so events keep their order.
        cast(_Writer, self.experiment)  # pyright: ignore[reportUnknownMemberType]
        metrics = dict(metrics)
        self._writes.submit(
            f"metrics at step {step}", lambda: TensorBoardLogger.log_metrics(self, metrics, step)
        )

    def flush(self) -> None:
        """Wait until everything logged so far is written; raise a failed write's error."""
        self._writes.flush()

    @override
    @rank_zero_only
    def finalize(self, status: str) -> None:
        self._writes.close_for(status)  # before Lightning closes the event file
        super().finalize(status)

    def record_config(self, cfg: DictConfig, run_dir: Path) -> None:
        """Write ``cfg``'s hyper-parameters as hparams (``params.beta``...); the rest of the
        config is in ``run_dir``'s ``config.yaml`` already."""
        del run_dir
        self.log_hyperparams(params_config(cfg))


def _write(
    writer: _Writer, name: str, entry: LogEntry, step: int, counters: Mapping[str, int]
) -> None:
    """Write one entry and, on the first entry of a step, the counters (writer thread)."""
    if isinstance(entry, ScalarEntry):
        writer.add_scalar(name, entry.value, global_step=step)
    elif isinstance(entry, ScalarsEntry):
        for key, value in entry.values.items():
            writer.add_scalar(f"{name}/{key}", value, global_step=step)
    elif isinstance(entry, ImageEntry):
        writer.add_image(name, entry.image, global_step=step)  # (C, H, W), on the CPU
    else:
        # Closed by `snapshot` already; TensorBoard draws it on a canvas of its own.
        writer.add_figure(name, entry.figure, global_step=step, close=False)
    for counter, value in counters.items():
        writer.add_scalar(f"counters/{counter}", value, global_step=step)
