"""Checkpoints that survive kills: atomic writes, a save on preemption, a save at the end.

Lightning's ``ModelCheckpoint`` decides *when* to save; these pieces make each save safe
and make sure the last state is on disk whenever a run stops:

- :class:`AtomicCheckpointIO` writes to a temporary file and renames it over the target, so
  a kill during a save (SIGKILL included) leaves the previous checkpoint readable.
- :class:`SaveOnStop` saves when training ends normally (after the final evaluation, so
  the best-by-metric checkpoint sees it and a resumed run does not repeat it) and when
  Lightning stops on SIGTERM (a preempted or cancelled job): the run resumes from exactly
  where it stopped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException
from typing_extensions import override

LAST_CHECKPOINT = ModelCheckpoint.CHECKPOINT_NAME_LAST + ModelCheckpoint.FILE_EXTENSION


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to ``.<name>.tmp`` beside the target, fsync, then rename over it."""

    @override
    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike[str], storage_options: Any = None
    ) -> None:
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp")
        super().save_checkpoint(checkpoint, tmp, storage_options)
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, target)


class SaveOnStop(Callback):
    """Saves ``<checkpoint dir>/last.ckpt`` at the end of training and on SIGTERM."""

    def __init__(self, checkpoint: ModelCheckpoint) -> None:
        super().__init__()
        self._checkpoint = checkpoint

    @property
    def path(self) -> Path:
        if self._checkpoint.dirpath is None:
            raise RuntimeError("the checkpoint folder is set by the runner before fit")
        return Path(self._checkpoint.dirpath) / LAST_CHECKPOINT

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # ModelCheckpoint's own saving, at a moment it does not save by itself; its
        # private methods are used so `best_model_path` and top-k stay its business.
        checkpoint = self._checkpoint
        candidates = checkpoint._monitor_candidates(trainer)
        if checkpoint.monitor is not None and checkpoint.monitor in candidates:
            checkpoint._save_topk_checkpoint(trainer, candidates)
        trainer.save_checkpoint(self.path)

    @override
    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        # Lightning turns SIGTERM into SIGTERMException after the current step on every
        # rank, so this save (a collective under DDP) happens on all of them alike. Other
        # exceptions (a NaN loss, a bug) keep the last good checkpoint as it is.
        if isinstance(exception, SIGTERMException):
            trainer.save_checkpoint(self.path)
