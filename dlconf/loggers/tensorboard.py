"""TensorBoard, writing dlconf's typed log entries.

Lightning's :class:`~lightning.pytorch.loggers.TensorBoardLogger` keeps doing what it does
(``self.log`` metrics from the optimization, hyper-parameters); this subclass adds
:meth:`TensorBoardEntryLogger.log`, the :class:`~dlconf.loggers.base.EntryLogger` surface
that evaluation callbacks write through, and :meth:`TensorBoardEntryLogger.record_config`,
which writes the run's hyper-parameters (``params.*``) as TensorBoard hparams. Event files
land in ``<save_dir>/tensorboard``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only
from torch import Tensor

from dlconf.evaluation.entries import ImageEntry, LogEntry, ScalarEntry, ScalarsEntry
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
        **kwargs: passed on to :class:`~lightning.pytorch.loggers.TensorBoardLogger`.
    """

    def __init__(
        self,
        save_dir: str,
        resume_step: int | None = None,
        run_id: str | None = None,
        version: str = "tensorboard",
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

    @rank_zero_only
    def log(self, name: str, entry: LogEntry, step: int, counters: Mapping[str, int]) -> None:
        """Write ``entry`` under ``name`` at ``step``, with ``counters`` beside it."""
        # Lightning types `experiment` as torch's or tensorboardX's writer, whichever is
        # installed, which pyright cannot resolve; both have this API.
        writer = cast(_Writer, self.experiment)  # pyright: ignore[reportUnknownMemberType]
        if isinstance(entry, ScalarEntry):
            writer.add_scalar(name, entry.value, global_step=step)
        elif isinstance(entry, ScalarsEntry):
            for key, value in entry.values.items():
                writer.add_scalar(f"{name}/{key}", value, global_step=step)
        elif isinstance(entry, ImageEntry):
            writer.add_image(name, entry.image.detach().cpu(), global_step=step)  # (C, H, W)
        else:
            import matplotlib.pyplot as plt  # pyplot is slow to import; only figures need it

            try:
                writer.add_figure(name, entry.figure, global_step=step, close=False)
            finally:
                plt.close(entry.figure)
        if step != self._counters_step:
            for counter, value in counters.items():
                writer.add_scalar(f"counters/{counter}", value, global_step=step)
            self._counters_step = step

    def record_config(self, cfg: DictConfig, run_dir: Path) -> None:
        """Write ``cfg``'s hyper-parameters as hparams (``params.beta``...); the rest of the
        config is in ``run_dir``'s ``config.yaml`` already."""
        del run_dir
        self.log_hyperparams(params_config(cfg))
