"""Checkpoints that survive kills: atomic writes, a save on preemption, a save at the end.

Lightning's ``ModelCheckpoint`` decides *when* to save; these pieces make each save safe
and make sure the last state is on disk whenever a run stops:

- :class:`AtomicCheckpointIO` writes to a temporary file and renames it over the target, so
  a kill during a save (SIGKILL included) leaves the previous checkpoint readable; a save
  the file system refuses (a full disk) removes its temporary file, keeps the previous
  checkpoint and stops the run with one line (:class:`~dlconf.errors.StorageError`), rather
  than training on without checkpoints. It reads through :func:`read_checkpoint`, the one
  function that reads a checkpoint and reports a damaged file in one line.
- :class:`RunCheckpoint` is Lightning's ``ModelCheckpoint``, with its ``state_key`` formatted
  once per setting instead of on every hook call.
- :class:`SaveOnStop` saves when training ends normally (after the final evaluation, so
  the best-by-metric checkpoint sees it and a resumed run does not repeat it) and when
  Lightning stops on SIGTERM (a preempted or cancelled job): the run resumes from exactly
  where it stopped.
"""

from __future__ import annotations

import errno
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, cast

import torch
from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException
from typing_extensions import override

from dlconf.errors import ConfigError, StorageError
from dlconf.internals import monitor_candidates, save_top_k


class DamagedCheckpointError(ConfigError):
    """A checkpoint file that cannot be read (truncated, or not a checkpoint)."""


def read_checkpoint(
    path: str | os.PathLike[str],
    *,
    weights_only: bool | None = True,
    mmap: bool = False,
    map_location: Any = "cpu",
) -> dict[str, Any]:
    """The checkpoint in ``path``; a file that is not a readable one is a one-line error.

    Args:
        weights_only: torch's safe unpickler (tensors and plain values): a checkpoint may
            come from a W&B server, and unpickling arbitrary objects would run its code.
            ``None`` is torch's default.
        mmap: map the tensors instead of reading them (to look at the counters only).
    """
    try:
        loaded = torch.load(path, map_location=map_location, weights_only=weights_only, mmap=mmap)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, zipfile.BadZipFile) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DamagedCheckpointError(f"cannot read the checkpoint {path}: {first}") from None
    if not isinstance(loaded, dict) or "state_dict" not in loaded:
        raise DamagedCheckpointError(f"{path} is not a Lightning checkpoint (no 'state_dict')")
    return cast(dict[str, Any], loaded)


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to ``.<name>.tmp`` beside the target, fsync, then rename over it."""

    @override
    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike[str], storage_options: Any = None
    ) -> None:
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            super().save_checkpoint(checkpoint, tmp, storage_options)
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())  # the bytes are on disk before the name points at them
            os.replace(tmp, target)
        except OSError as error:
            tmp.unlink(missing_ok=True)  # the previous checkpoint is untouched
            raise StorageError(_save_failure(target, error)) from None
        except RuntimeError as error:
            # torch.save reports a failed write (a full disk) as a RuntimeError of its own.
            tmp.unlink(missing_ok=True)
            if "write" not in str(error) and "file" not in str(error):
                raise
            raise StorageError(_save_failure(target, OSError(errno.EIO, str(error)))) from None

    @override
    def load_checkpoint(
        self,
        path: str | os.PathLike[str],
        map_location: Any = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        return read_checkpoint(path, weights_only=weights_only, map_location=map_location)


def _save_failure(target: Path, error: OSError) -> str:
    full = error.errno in (errno.ENOSPC, errno.EDQUOT) or "space" in str(error).lower()
    why = "no space left on its file system" if full else (error.strerror or str(error))
    return (
        f"cannot save the checkpoint {target}: {why}; the run stopped, and the previous "
        "checkpoint is kept. Free space (or give device.experiments_root=<folder> on another "
        "disk) and continue with resume=<run folder>"
    )


class RunCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint``, which formats its ``state_key`` only when a setting in it changes.

    Lightning reads every callback's ``state_key`` on every hook call (six a training step),
    and ``ModelCheckpoint`` formats it each time from five settings (a ``repr`` of a dict):
    about 0.2 ms of a small model's step under cProfile (benchmarks/README.md). Comparing
    the settings is far cheaper, and keeps the key right should one of them change.
    """

    _key_settings: tuple[Any, ...] | None = None
    _key = ""

    @property
    @override
    def state_key(self) -> str:
        settings = (
            self.monitor,
            self.mode,
            self._every_n_train_steps,
            self._every_n_epochs,
            self._train_time_interval,
        )
        if settings != self._key_settings:
            # Under ModelCheckpoint's own name, as Lightning formats it: checkpoints written
            # by a plain ModelCheckpoint resume, and the other way round.
            names = (
                "monitor",
                "mode",
                "every_n_train_steps",
                "every_n_epochs",
                "train_time_interval",
            )
            self._key_settings = settings
            self._key = f"{ModelCheckpoint.__qualname__}{dict(zip(names, settings, strict=True))!r}"
        return self._key


class SaveOnStop(Callback):
    """Saves ``last`` (the run's ``last.ckpt``) at the end of training and on SIGTERM."""

    def __init__(self, checkpoint: ModelCheckpoint, last: Path) -> None:
        super().__init__()
        self._checkpoint = checkpoint
        self.path = last

    @override
    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # ModelCheckpoint's own saving, at a moment it does not save by itself, so
        # `best_model_path` and top-k stay its business (dlconf.internals).
        checkpoint = self._checkpoint
        candidates = monitor_candidates(checkpoint, trainer)
        if checkpoint.monitor is not None and checkpoint.monitor in candidates:
            save_top_k(checkpoint, trainer, candidates)
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
