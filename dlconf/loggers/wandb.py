"""Weights & Biases, writing dlconf's typed log entries, the run's config and its checkpoints.

Lightning's :class:`~lightning.pytorch.loggers.WandbLogger` keeps doing what it does (the
optimization's ``self.log`` metrics against ``trainer/global_step``); this subclass adds:

- :meth:`WandbEntryLogger.log`, the :class:`~dlconf.loggers.base.EntryLogger` surface. Each
  entry is one W&B history row holding the entry (a scalar under its name, grouped scalars
  under ``<name>/<key>``, images and figures as ``wandb.Image``), ``trainer/global_step``
  (W&B's x-axis, as for Lightning's metrics) and the counters as ``counters/<name>``
  (``counters/epoch``, ``counters/global_step``, ``counters/iteration``...).
- :meth:`WandbEntryLogger.record_config`: the composed config becomes the W&B run config
  with dotted keys that sweeps address (``params.beta``), and the run folder's files
  (``config.yaml``, ``resolved.yaml``, ``command.txt``) are saved with the run.
- Checkpoints: when training ends (success, failure, or a SLURM signal), every ``*.ckpt``
  that Lightning saved is saved with the run too; the W&B run is then finished.

Entries and Lightning's metrics reach ``run.log`` from a background thread
(:mod:`dlconf.loggers.background`): images are encoded and their media files written
there, and training waits only to queue a row. ``finalize``, which Lightning calls however
fit ends, waits for every row before the run is finished.

Files saved with the run sit under ``run_folder/`` in the run's files, mirroring the run
folder (``run_folder/config.yaml``, ``run_folder/checkpoints/last.ckpt``): W&B keeps its own
``config.yaml`` at the top. They are links into the run folder, not copies.

Mode: ``WANDB_MODE`` when set; otherwise online where credentials exist (``WANDB_API_KEY``,
or a ``wandb login`` entry in ``~/.netrc``), else offline with one logged line saying how
to ``wandb sync`` the run later. Deciding needs no network and never prompts for a login.

wandb itself is imported only when a run starts, so importing dlconf never imports it. Its
import and its service process start early, in a thread, while the runner builds the model
and data (:meth:`WandbEntryLogger.start_early`). The W&B run itself is created once nothing
can fail on a user's value any more, and off the training thread: it is the writer's first
write (:meth:`WandbEntryLogger.record_config`), so training starts without waiting for it
and what training logs meanwhile waits in the queue. A W&B run that cannot be created
(login, network, entity) ends training with :class:`~dlconf.errors.LoggerStartError` at
the next log call or at the end; the runner then removes the new run folder, so a run
without its W&B run leaves nothing behind.
"""

from __future__ import annotations

import glob
import logging
import netrc
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast
from urllib.parse import urlsplit

import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig
from torch import Tensor
from typing_extensions import override

from dlconf.errors import LoggerStartError
from dlconf.evaluation.entries import ImageEntry, LogEntry, ScalarEntry, ScalarsEntry
from dlconf.loggers.background import DEFAULT_MAX_PENDING, BackgroundWriter, snapshot
from dlconf.loggers.flatten import experiment_config

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure
    from numpy.typing import NDArray
    from wandb import Image

log = logging.getLogger(__name__)

RUN_FOLDER_FILES = "run_folder"
"""The folder, inside a W&B run's files, that mirrors the dlconf run folder."""

DEFAULT_HOST = "https://api.wandb.ai"

Policy = Literal["now", "live", "end"]
"""W&B's upload policies for a saved file."""


class _Settings(Protocol):
    @property
    def mode(self) -> str: ...


class _Config(Protocol):
    def update(self, d: Mapping[str, Any], allow_val_change: bool | None = None) -> None: ...


class _Run(Protocol):
    """The part of ``wandb.Run`` used here, typed (Lightning and W&B leave it loose)."""

    @property
    def dir(self) -> str: ...

    @property
    def config(self) -> _Config: ...

    @property
    def settings(self) -> _Settings: ...

    def log(self, data: dict[str, Any]) -> None: ...

    def save(
        self, glob_str: str, base_path: str | None = None, policy: Policy = "live"
    ) -> bool | list[str]: ...

    def finish(self, exit_code: int | None = None) -> None: ...


class WandbEntryLogger(WandbLogger):
    """A W&B logger that also writes :data:`LogEntry` values, the config and checkpoints.

    The W&B run starts on first use and is finished when training ends, so each run of a
    Hydra multirun gets its own W&B run.

    Args:
        save_dir: the run folder; W&B's files go to ``<save_dir>/wandb``.
        project: the W&B project (``run.project``).
        name: the W&B run's display name (``run.name``).
        entity: the W&B user or team; ``None`` for W&B's default (``WANDB_ENTITY``).
        tags: W&B tags for the run.
        resume_step: set by the runner when it resumes the run in ``save_dir`` from a
            checkpoint at that step.
        run_id: the W&B run id, which the runner keeps in the run's record: a resumed run
            goes on in the W&B run it started (Lightning passes ``resume="allow"``).
        max_pending: rows that may wait for the writer thread before logging waits.
        background: ``False`` encodes and logs in the training thread.
        **kwargs: passed on to :class:`~lightning.pytorch.loggers.WandbLogger` and
            ``wandb.init``.
    """

    def __init__(
        self,
        save_dir: str,
        project: str | None = None,
        name: str | None = None,
        entity: str | None = None,
        tags: Sequence[str] | None = None,
        resume_step: int | None = None,
        run_id: str | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
        background: bool = True,
        **kwargs: Any,
    ) -> None:
        del resume_step
        if run_id is not None:
            kwargs.setdefault("id", run_id)
        kwargs.setdefault("mode", wandb_mode(os.environ))
        # Offline for want of credentials, not by request: say so in one line of our own
        # (once the run's folder is known) instead of W&B's dozen-line banner.
        sync_hint = kwargs["mode"] == "offline" and not os.environ.get("WANDB_MODE")
        if sync_hint:
            kwargs.setdefault("settings", {"silent": True})
        super().__init__(
            save_dir=save_dir,
            project=project,
            name=name,
            entity=entity,
            tags=list(tags) if tags else None,
            **kwargs,
        )
        # Lightning passes `anonymous=None` on; W&B warns about the setting on every run.
        if self._wandb_init.get("anonymous") is None:
            self._wandb_init.pop("anonymous", None)
        self._sync_hint = sync_hint
        self._run_dir = Path(save_dir)
        self._checkpoint_dirs: set[Path] = set()
        self._finished = False
        self._writes = BackgroundWriter("wandb", max_pending, threaded=background)
        self._creating = threading.Lock()  # the writer and the training thread may both ask
        self._start_failure: LoggerStartError | None = None

    @staticmethod
    def start_early() -> None:
        """Import wandb and start W&B's service in a thread; creating the run waits for it.

        The service is W&B's, not a run's: it writes nothing, and it ends with the process,
        so a run that fails before its W&B run is created leaves no trace of W&B. Starting
        it is all of :func:`start_service`.
        """
        global _service_start
        _service_start = threading.Thread(target=start_service, name=SERVICE_THREAD)
        _service_start.start()  # not a daemon: a failing run's exit waits, then W&B tears down

    @property
    @override
    def experiment(self) -> Any:
        """The W&B run; until the writer has created it, a stand-in that waits when used.

        Lightning reads ``experiment`` at fit start only to create the run early; handing
        it the stand-in keeps training from waiting for W&B. Code that uses the run (an
        experiment's ``self.logger.experiment.watch(...)``) waits for it, or creates it.
        """
        if self._started():
            return self._experiment  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        return _RunWhenCreated(self._created_run)

    def _created_run(self) -> Any:
        """The W&B run, created here if no other thread did; a failure is remembered."""
        with self._creating:
            if self._start_failure is not None:
                raise self._start_failure
            if not self._started():
                _wait_for_service_start()
            try:
                return super().experiment  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            except Exception as error:
                self._start_failure = _start_error(error)
                raise self._start_failure from error

    @rank_zero_only
    def log(self, name: str, entry: LogEntry, step: int, counters: Mapping[str, int]) -> None:
        """Queue ``entry`` to be logged under ``name`` at ``step``, with ``counters`` beside it."""
        row: dict[str, Any] = {f"counters/{counter}": value for counter, value in counters.items()}
        row["trainer/global_step"] = step
        entry = snapshot(entry)
        # The writer creates the W&B run if it does not exist yet (a resumed run's first row).
        self._writes.submit(
            f"{name!r} at step {step}", lambda: self._run().log(_row(row, name, entry))
        )

    @override
    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        # Lightning's own `self.log` metrics: queued too, so rows keep their order.
        metrics = dict(metrics)
        self._writes.submit(
            f"metrics at step {step}", lambda: WandbLogger.log_metrics(self, metrics, step)
        )

    @override
    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Any) -> None:
        # Lightning calls it at fit start (with `{}` for dlconf's modules): queued, so the
        # training thread does not wait for the W&B run to exist.
        self._writes.submit("hyperparameters", lambda: WandbLogger.log_hyperparams(self, params))

    def flush(self) -> None:
        """Wait until everything logged so far is handed to W&B; raise a failed write's error."""
        self._writes.flush()

    @rank_zero_only
    def record_config(self, cfg: DictConfig, run_dir: Path) -> None:
        """Create the W&B run, set its config from ``cfg`` and save ``run_dir``'s files with
        it: the writer's first write, so the training thread does not wait for any of it."""
        self._run_dir = run_dir
        config = experiment_config(cfg)
        files = sorted(path for path in run_dir.iterdir() if path.is_file())

        def start() -> None:
            self._run().config.update(config, allow_val_change=True)
            self._save_files(files, "now")

        self._writes.submit("the W&B run's start", start)

    @override
    def after_save_checkpoint(self, checkpoint_callback: ModelCheckpoint) -> None:
        super().after_save_checkpoint(checkpoint_callback)  # Lightning's `log_model` artifacts
        # Only remembered: uploading every save would upload `last.ckpt` again and again.
        if checkpoint_callback.dirpath is not None:
            self._checkpoint_dirs.add(Path(checkpoint_callback.dirpath))

    @override
    @rank_zero_only
    def finalize(self, status: str) -> None:
        self._writes.close_for(status)  # every row, before the run is finished
        super().finalize(status)
        if not self._started() or self._finished:
            return
        # On failure too: the checkpoints saved so far are what a resumed run needs.
        self._save_files(
            sorted(path for folder in self._checkpoint_dirs for path in folder.glob("*.ckpt")),
            "now",
        )
        # "finished" is Lightning's SLURM requeue signal: the process goes on, so does the run.
        if status in ("success", "failed"):
            self._finished = True
            self._run().finish(exit_code=0 if status == "success" else 1)

    def _run(self) -> _Run:
        """The W&B run, started on first use; says once how to sync it if it is offline."""
        run = cast(_Run, self._created_run())
        if self._sync_hint and self._started():
            self._sync_hint = False
            log.info(
                "W&B is offline (no WANDB_API_KEY and no `wandb login`); "
                "to upload this run later: wandb sync %s",
                Path(run.dir).parent,
            )
        return run

    def _started(self) -> bool:
        # Lightning types the run loosely; only whether it exists matters here.
        return self._experiment is not None  # pyright: ignore[reportUnknownMemberType]

    def _save_files(self, files: Iterable[Path], policy: Policy) -> None:
        run = self._run()
        if run.settings.mode == "disabled":
            return
        files_dir = Path(run.dir)
        for source in files:
            target = files_dir / RUN_FOLDER_FILES / _relative(source, self._run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            try:
                # Relative, so the links hold when the whole run folder is moved.
                target.symlink_to(os.path.relpath(source, target.parent))
            except OSError:  # no symlinks (Windows without rights): copy, as W&B does
                shutil.copy2(source, target)
            run.save(glob.escape(str(target)), base_path=str(files_dir), policy=policy)


class _RunWhenCreated:
    """What ``WandbEntryLogger.experiment`` is while the writer creates the W&B run: any
    attribute waits for the run (or creates it) and is then the run's."""

    def __init__(self, created_run: Callable[[], Any]) -> None:
        self._created_run = created_run

    def __getattr__(self, name: str) -> Any:
        return getattr(self._created_run(), name)


LAUNCH_INPUTS_MODULE = "wandb.sdk.launch.inputs.internal"
"""What ``wandb.init`` imports for every run to apply W&B Launch's staged job inputs
(all of W&B Launch: 0.15-0.4 s of imports here)."""
SERVICE_THREAD = "wandb-service-start"

_service_start: threading.Thread | None = None
"""The thread :meth:`WandbEntryLogger.start_early` started, until a run waited for it."""


def start_service() -> None:
    """``import wandb`` and ``wandb.setup()``, which starts W&B's service process.

    What ``wandb.init`` would otherwise do first, in the same order. A failure is left to
    ``wandb.init`` to report, with its own message.
    """
    if wandb_mode(os.environ) == "disabled":
        return
    try:
        import wandb

        wandb.setup()
    except Exception:  # reported by wandb.init, which meets it again
        log.debug("starting W&B early failed; wandb.init will start it", exc_info=True)


def _wait_for_service_start() -> None:
    global _service_start
    starting, _service_start = _service_start, None
    if starting is not None:
        starting.join()
    _apply_launch_inputs_only_when_staged()  # the one place before every wandb.init


def _apply_launch_inputs_only_when_staged() -> None:
    """Spare ``wandb.init`` importing W&B Launch when no job inputs can have been staged.

    Inputs are staged through that very module (``wandb.sdk.launch.manage_config_file``
    and the like), so while it is not imported there is nothing for ``wandb.init`` to
    apply; a Launch job, or code that staged inputs, has it imported and keeps W&B's own
    path. A wandb without the method is left as it is.
    """
    from wandb.sdk import wandb_run

    original = getattr(wandb_run.Run, "_detect_and_apply_job_inputs", None)
    if original is None or getattr(original, "only_when_staged", False):
        return

    def detect_and_apply_job_inputs(run: wandb_run.Run) -> None:
        if LAUNCH_INPUTS_MODULE in sys.modules:
            original(run)

    # Set, not assigned as a method: W&B's class is W&B's; the flag makes it happen once.
    setattr(detect_and_apply_job_inputs, "only_when_staged", True)  # noqa: B010
    setattr(wandb_run.Run, "_detect_and_apply_job_inputs", detect_and_apply_job_inputs)  # noqa: B010


def _start_error(error: Exception) -> LoggerStartError:
    """The W&B run could not be created: one line that names the cause and the fixes."""
    lines = str(error).strip().splitlines()
    cause = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return LoggerStartError(
        f"W&B could not start the run ({cause}). Check `wandb login` (or WANDB_API_KEY), "
        "logger.entity and the network; or run with "
        "WANDB_MODE=offline (upload later with `wandb sync`) or logger=tensorboard."
    )


def wandb_mode(environ: Mapping[str, str]) -> str:
    """``WANDB_MODE`` when set; else ``"online"`` with credentials, ``"offline"`` without.

    Passed to ``wandb.init`` explicitly: W&B reads the environment once per process, so a
    later change of ``WANDB_MODE`` (another run of a multirun, a test) would go unseen.
    """
    if mode := environ.get("WANDB_MODE"):
        return mode
    return "online" if has_credentials(environ) else "offline"


def has_credentials(environ: Mapping[str, str]) -> bool:
    """Whether W&B would find an API key: ``WANDB_API_KEY`` or ``.netrc``; no network."""
    if environ.get("WANDB_API_KEY"):
        return True
    host = _hostname(environ.get("WANDB_BASE_URL") or DEFAULT_HOST)
    netrc_path = Path(environ.get("NETRC") or Path.home() / ".netrc").expanduser()
    try:
        entry = netrc.netrc(netrc_path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False
    return entry is not None and bool(entry[2])


def _hostname(url: str) -> str:
    return urlsplit(url).hostname or ""


def _relative(path: Path, run_dir: Path) -> Path:
    """``path`` inside the run folder; a file elsewhere keeps its folder's name."""
    try:
        # absolute(), not resolve(): `last.ckpt` may be a link, and keeps its own name.
        return path.absolute().relative_to(run_dir.absolute())
    except ValueError:
        return Path(path.parent.name, path.name)


def _row(row: dict[str, Any], name: str, entry: LogEntry) -> dict[str, Any]:
    """``row`` with ``entry`` added under ``name``: images encoded (writer thread)."""
    if isinstance(entry, ScalarEntry):
        row[name] = entry.value
    elif isinstance(entry, ScalarsEntry):
        row.update({f"{name}/{key}": value for key, value in entry.values.items()})
    elif isinstance(entry, ImageEntry):
        row[name] = _image(entry.image)
    else:
        row[name] = _figure(entry.figure)  # closed by `snapshot` already
    return row


def _image(image: Tensor) -> Image:
    import wandb

    pixels = (image.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8)  # (C, H, W)
    # 8-bit (H, W, C), or (H, W) for grey: the input every wandb version takes as it is
    # (their tensor paths differ: some rescale each image to its own min and max).
    array = cast(
        "NDArray[np.uint8]",
        pixels.permute(1, 2, 0).squeeze(2).numpy(),  # pyright: ignore[reportUnknownMemberType]
    )
    return wandb.Image(array)


def _figure(figure: Figure) -> Image:
    import wandb

    return wandb.Image(figure)  # rendered to PNG now
