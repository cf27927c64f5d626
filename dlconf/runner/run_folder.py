"""The run folder: one per run, never overwritten, and the one place that knows its layout.

::

    <device.experiments_root>/<run.project>/<run.name>/<date>_<time>[-N][_<label>]/
        config.yaml       the config as composed, links such as ${params.beta} intact
        resolved.yaml     the same with every value filled in
        command.txt       the command that reruns the run, from the repository root
        record.json       what ran: one entry per process that trained here (record.py)
        checkpoints/      last.ckpt, and best-<step>.ckpt by checkpoint.monitor
        hpc_ckpt_<N>.ckpt Lightning's save on SLURM's requeue signal
        tensorboard/      TensorBoard's events
        wandb/            W&B's files; the W&B run id is the run id in record.json

Everything else (the runner, resume, reload, local sweeps, tests) asks a :class:`RunFolder`
for a path; nothing else spells a name of the folder. Checkpoints are read through
:func:`~dlconf.callbacks.checkpoints.read_checkpoint` only (a damaged file is one line).
"""

from __future__ import annotations

import errno
import json
import logging
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from omegaconf import DictConfig, OmegaConf

from dlconf.callbacks.checkpoints import DamagedCheckpointError, read_checkpoint
from dlconf.errors import ConfigError, StorageError, close_matches

log = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
RESOLVED_CONFIG_FILE = "resolved.yaml"
COMMAND_FILE = "command.txt"
RECORD_FILE = "record.json"
CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
WANDB_DIR = "wandb"
CHECKPOINT_SUFFIX = ".ckpt"
LAST = "last"
BEST = "best"
LAST_CHECKPOINT = LAST + CHECKPOINT_SUFFIX
HPC_CHECKPOINTS = "hpc_ckpt_*.ckpt"
"""Lightning's name for the checkpoint it saves on SLURM's requeue signal, in the folder."""

NAME_MAX = 100
_STAMP_FORMAT = "%Y-%m-%d_%H-%M-%S"
_FOLDER_NAME = re.compile(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(?:-\d+)?(?:_(?P<label>.+))?")
"""``<date>_<time>[-N][_<label>]``: ``-N`` when runs start in the same second."""
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,=+@-]*")
_NAME_RULE = (
    f"one name of at most {NAME_MAX} letters, digits and _ . , = + @ - "
    "(no '/', spaces or '..', not starting with '.' or '-')"
)


def check_name(key: str, value: object) -> str:
    """``value`` if it can name a folder and a W&B project or run; else a ConfigError.

    Project and run names become path parts (``run.name=../../x`` would write elsewhere)
    and W&B names (which refuse ``/ \\ # ? % :``); one safe set serves both.
    """
    text = str(value)
    if len(text) <= NAME_MAX and _NAME.fullmatch(text) and text not in (".", ".."):
        return text
    fixed = re.sub(r"[^A-Za-z0-9_.,=+@-]+", "_", text).strip("._-")[:NAME_MAX] or "run"
    raise ConfigError(f"{key}={text!r} names the run folder: give {_NAME_RULE}, e.g. {key}={fixed}")


def storage_error(where: Path, error: OSError) -> StorageError:
    """The one-line message for a write the file system refused, with the fix."""
    if error.errno == errno.ENOSPC or error.errno == errno.EDQUOT:
        return StorageError(
            f"no space left for {where}: free space there, or write runs elsewhere "
            "with device.experiments_root=<folder>"
        )
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(
            f"cannot write {where} ({error.strerror}): give a writable folder with "
            "device.experiments_root=<folder>"
        )
    return StorageError(
        f"cannot write {where}: {error.strerror or error}; check the file system, or write "
        "runs elsewhere with device.experiments_root=<folder>"
    )


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: all of it or nothing."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise storage_error(path, error) from None


@dataclass(frozen=True)
class Checkpoint:
    """A readable checkpoint of the run and the global step it was saved at."""

    path: Path
    step: int


@dataclass(frozen=True)
class RunFolder:
    """One run's folder. ``new``: made by this process, removed again if the run fails
    before training starts (nothing half-written)."""

    path: Path
    """Absolute: a W&B service started elsewhere would resolve a relative one against its own
    working directory (a test once left W&B files in the repository's ./runs that way)."""
    new: bool = False
    made_parents: tuple[Path, ...] = ()
    """Folders above ``path`` that making it made, deepest first: removed with it."""
    resume_from: Checkpoint | None = None
    """The checkpoint training continues from; None: from the start."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", self.path.expanduser().absolute())

    BEST_FILENAME: ClassVar[str] = BEST + "-{step}"
    """ModelCheckpoint's file name pattern for the best checkpoint by the monitored metric."""
    STEP_FILENAME: ClassVar[str] = "step-{step}"
    """...and for its own saves when nothing is monitored."""

    # --- finding, making and opening ---------------------------------------------------

    @classmethod
    def create(cls, experiments_root: Path, project: str, name: str, label: str = "") -> RunFolder:
        """Make a new, empty run folder; never reuses an existing one.

        ``label`` tells the runs of one multirun or sweep apart (``job1_beta=0.1``): it
        follows the time, so the folders of a name still sort oldest first.
        """
        root = experiments_root.expanduser().absolute()
        parent = root / check_name("run.project", project) / check_name("run.name", name)
        # Checked on the resolved path, before anything is made: a link inside the root
        # (to another disk, or out of it) must not take the run elsewhere.
        if not parent.resolve().is_relative_to(root.resolve()):
            raise ConfigError(
                f"run folders go inside device.experiments_root={root}, but {parent} "
                f"leads to {parent.resolve()}: remove the link, or choose another run.name"
            )
        missing = [p for p in (parent, parent.parent, root) if not p.exists()]
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise storage_error(parent, error) from None
        stamp = datetime.now().strftime(_STAMP_FORMAT)
        tail = f"_{check_name('the run label', label)}" if label else ""
        for attempt in range(1000):
            folder = parent / ((stamp if attempt == 0 else f"{stamp}-{attempt}") + tail)
            try:
                folder.mkdir()  # atomic: two runs starting in the same second get two folders
            except FileExistsError:
                continue
            except OSError as error:
                raise storage_error(folder, error) from None
            return cls(folder, new=True, made_parents=tuple(missing))
        raise StorageError(f"could not make a new run folder under {parent}: 1000 exist already")

    @classmethod
    def open(cls, path: Path, *, given_as: str = "resume") -> RunFolder:
        """The existing run folder ``path``; ``given_as`` names the setting in errors."""
        path = path.expanduser()
        if not (path / CONFIG_FILE).is_file():
            inside = sorted(run.path.name for run in cls.runs_in(path))
            listing = f" (the runs in it: {', '.join(inside)})" if inside else ""
            raise ConfigError(
                f"{given_as}={path}: no {CONFIG_FILE} there, so it is not a run folder{listing}; "
                "give <experiments_root>/<project>/<name>/<date>_<time>, or resume=last"
            )
        return cls(path)

    @classmethod
    def runs_of(cls, experiments_root: Path, project: str, name: str) -> list[RunFolder]:
        """The runs of ``project``/``name``, oldest first (folder names sort by time)."""
        return cls.runs_in(experiments_root.expanduser() / project / name)

    @classmethod
    def latest(cls, experiments_root: Path, project: str, name: str) -> RunFolder:
        runs = cls.runs_of(experiments_root, project, name)
        if not runs:
            parent = experiments_root.expanduser() / project / name
            raise ConfigError(f"resume=last: no run of {project}/{name} under {parent}")
        return runs[-1]

    @classmethod
    def all_under(cls, experiments_root: Path) -> list[RunFolder]:
        """Every run folder under ``experiments_root``, whatever its project and name."""
        return [cls(p.parent) for p in sorted(experiments_root.glob(f"*/*/*/{CONFIG_FILE}"))]

    @classmethod
    def runs_in(cls, parent: Path) -> list[RunFolder]:
        """The run folders directly in ``parent``, oldest first."""
        return [cls(p.parent) for p in sorted(parent.glob(f"*/{CONFIG_FILE}"))]

    # --- what is in it -------------------------------------------------------------------

    @property
    def label(self) -> str:
        """What tells this run from the others of its multirun or sweep; "" for a plain run."""
        match = _FOLDER_NAME.fullmatch(self.path.name)
        return (match.group("label") or "") if match else ""

    def display_name(self, name: str) -> str:
        """The run's name as its logger shows it: ``name``, and the label when it has one."""
        return f"{name}_{self.label}" if self.label else name

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def command_file(self) -> Path:
        return self.path / COMMAND_FILE

    @property
    def record_file(self) -> Path:
        return self.path / RECORD_FILE

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoint_dir / (LAST_CHECKPOINT)

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / TENSORBOARD_DIR

    @property
    def wandb_dir(self) -> Path:
        return self.path / WANDB_DIR

    def save_config(self, cfg: DictConfig, command: Sequence[str]) -> None:
        """The config as composed and resolved, and the command that reruns the run."""
        import shlex

        write_atomic(self.config_file, OmegaConf.to_yaml(cfg))
        write_atomic(self.path / RESOLVED_CONFIG_FILE, OmegaConf.to_yaml(cfg, resolve=True))
        write_atomic(self.command_file, shlex.join(command) + "\n")

    def read_config(self) -> DictConfig:
        cfg = OmegaConf.load(self.config_file)
        if not isinstance(cfg, DictConfig):
            raise ConfigError(f"{self.config_file} is not a dlconf run config (not a mapping)")
        return cfg

    def history(self) -> list[dict[str, Any]]:
        """The record's entries, oldest first; empty before the first is written."""
        if not self.record_file.is_file():
            return []
        try:
            entries = json.loads(self.record_file.read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read {self.record_file}: {error}") from None
        return cast(list[dict[str, Any]], entries if isinstance(entries, list) else [])

    def append_record(self, entry: dict[str, Any]) -> None:
        write_atomic(self.record_file, json.dumps([*self.history(), entry], indent=2) + "\n")

    @property
    def run_id(self) -> str | None:
        """The id given to the run when its folder was made; W&B's run id too."""
        history = self.history()
        return cast(str | None, history[0].get("run_id")) if history else None

    def remove(self) -> None:
        """Remove the folder, and the empty ones above it that making it made."""
        shutil.rmtree(self.path, ignore_errors=True)
        for parent in self.made_parents:
            try:
                parent.rmdir()
            except OSError:  # another run's folder is in it now
                break

    # --- checkpoints ---------------------------------------------------------------------

    def checkpoint_files(self) -> list[Path]:
        """Every checkpoint file of the run: ``checkpoints/*.ckpt`` and Lightning's hpc ones."""
        saved: list[Path] = []
        if self.checkpoint_dir.is_dir():
            saved = list(self.checkpoint_dir.glob("*" + CHECKPOINT_SUFFIX))
        return sorted([*saved, *self.path.glob(HPC_CHECKPOINTS)])

    def newest_checkpoint(self) -> Checkpoint | None:
        """The readable checkpoint with the highest step; damaged ones are reported and skipped.

        A kill can leave no damaged file (saves are atomic), but a disk can: a truncated
        ``last.ckpt`` then falls back to ``best-<step>.ckpt`` or an hpc save, saying so.
        """
        readable: list[Checkpoint] = []
        damaged: list[str] = []
        for path in self.checkpoint_files():
            try:
                step = int(read_checkpoint(path, weights_only=False, mmap=True)["global_step"])
            except (DamagedCheckpointError, KeyError, TypeError, ValueError) as error:
                damaged.append(str(error) if isinstance(error, ConfigError) else f"{path}: no step")
                continue
            readable.append(Checkpoint(path, step))
        newest = max(readable, key=lambda c: (c.step, c.path.name == LAST_CHECKPOINT), default=None)
        for problem in damaged:
            instead = f"using {newest.path.name} (step {newest.step})" if newest else "none is left"
            log.warning("%s; %s, the newest readable checkpoint", problem, instead)
        return newest

    def checkpoint(self, which: str) -> Path:
        """``last`` (the newest state), ``best`` (by ``checkpoint.monitor``) or a file name."""
        saved = [p.name for p in self.checkpoint_files()]
        if which == LAST:
            newest = self.newest_checkpoint()
            if newest is not None:
                return newest.path
        elif which == BEST:
            best = sorted(self.checkpoint_dir.glob(BEST + "-*" + CHECKPOINT_SUFFIX))
            if len(best) == 1:
                return best[0]
            if len(best) > 1:
                raise ConfigError(
                    f"several best checkpoints in {self.checkpoint_dir}: "
                    f"{', '.join(p.name for p in best)}; pass one by name, e.g. "
                    f"checkpoint={best[-1].name!r}"
                )
        elif (self.checkpoint_dir / which).is_file():
            return self.checkpoint_dir / which
        elif Path(which).expanduser().is_file():
            return Path(which).expanduser()
        listing = f"there are: {', '.join(saved)}" if saved else "there are none"
        why = " (best checkpoints exist when checkpoint.monitor is set)" if which == BEST else ""
        raise ConfigError(
            f"no {which!r} checkpoint in {self.checkpoint_dir}"
            f"{close_matches(which, [LAST, BEST, *saved])}"
            f"{why}; {listing}. Pass checkpoint='last', 'best' or one of the file names."
        )

    @staticmethod
    def is_best(name: str) -> bool:
        """Whether a checkpoint file name is one kept by ``checkpoint.monitor``."""
        return Path(name).match(BEST + "-*" + CHECKPOINT_SUFFIX)
