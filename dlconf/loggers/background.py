"""Writing log entries off the training thread: one writer thread per logger, in order.

Encoding an image (PNG), writing W&B's media file and sending its row to W&B's service, or
adding an event to TensorBoard's file takes milliseconds; an evaluation's entry would hold
training up that long. A logger instead hands each write to its :class:`BackgroundWriter`
as a closure over a snapshot of the entry (a CPU copy of the image), and training goes on
as soon as the closure is queued.

- **Order**: one thread runs the writes in the order they were queued, so rows and events
  land as if written in place, and the logging library is only ever called from that thread
  once training runs.
- **Bounded**: at most ``max_pending`` writes wait besides the one being written. When the
  queue is full, the next log call waits for a free place (back-pressure): memory stays
  bounded and nothing is dropped; training then runs at the writer's pace, which only a
  writer slower than the evaluations that feed it can cause.
- **Nothing lost**: :meth:`BackgroundWriter.close` waits for every queued write. Loggers
  call it from Lightning's ``Logger.finalize(status)``, which Lightning calls when fit ends
  normally, on an exception, on SIGTERM (its ``SIGTERMException``) and on Ctrl-C; an
  ``atexit`` hook catches a logger that is never finalized (used outside a Trainer).
- **Errors surface**: a write that raises is remembered; the next log call, flush or close
  in the training thread raises :class:`WriteError` from it (a :class:`DlconfError`, which
  already says what to fix, is raised as it is). When the run is already
  failing (``finalize("failed")``), the error is logged instead, so it does not hide the
  exception that stopped training.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
from collections.abc import Callable

from dlconf.errors import DlconfError
from dlconf.evaluation.entries import ImageEntry, LogEntry, PlotEntry, ScalarsEntry

log = logging.getLogger(__name__)

DEFAULT_MAX_PENDING = 64
"""Writes that may wait. An MNIST image entry holds ~0.1 MB, a 64-picture CelebA grid at
64x64 ~3 MB; evaluations come seconds or minutes apart, so the queue is nearly always empty
and the bound only matters for a writer that has stopped keeping up."""

Write = Callable[[], None]


class WriteError(RuntimeError):
    """A log write that failed in the background writer; its cause is the original error."""


class BackgroundWriter:
    """Runs writes in one daemon thread, in the order :meth:`submit` received them.

    Args:
        name: names the thread (``dlconf-<name>-writer``) and the errors.
        max_pending: how many writes may wait besides the one being written; a full
            queue makes :meth:`submit` wait.
        threaded: ``False`` runs each write at once in the calling thread, as loggers did
            before (the baseline of ``benchmarks/logging_tax.py``; a failing write then
            raises where it was logged).
    """

    def __init__(
        self, name: str, max_pending: int = DEFAULT_MAX_PENDING, threaded: bool = True
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"BackgroundWriter(max_pending={max_pending!r}) must be >= 1")
        self._name = name
        self._threaded = threaded
        self._queue: queue.Queue[tuple[str, Write] | None] = queue.Queue(maxsize=max_pending)
        self._failures: list[tuple[str, BaseException]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Writes queued or running."""
        return self._queue.unfinished_tasks

    def submit(self, what: str, write: Write) -> None:
        """Queue ``write`` (``what`` names it in errors); raises an earlier write's failure."""
        self.raise_failures()
        if not self._threaded:
            write()
            return
        if self._thread is None:
            # Started on first use, so a logger that never writes (DDP ranks > 0) has none.
            self._thread = threading.Thread(
                target=self._work, name=f"dlconf-{self._name}-writer", daemon=True
            )
            self._thread.start()
            atexit.register(self.close)
        self._queue.put((what, write))  # waits while the queue is full: nothing is dropped

    def flush(self) -> None:
        """Wait until every queued write is done, then raise any failure."""
        if self._thread is not None:
            self._queue.join()
        self.raise_failures()

    def close(self) -> None:
        """Flush, then stop the thread; a later :meth:`submit` starts a new one."""
        thread, self._thread = self._thread, None
        if thread is not None:
            atexit.unregister(self.close)
            self._queue.put(None)
            thread.join()
        self.raise_failures()

    def close_for(self, status: str) -> None:
        """:meth:`close` at the end of a run with Lightning's ``status``.

        A failure raises unless the run already failed: then it is logged, and the
        exception that stopped training stays the one the user sees.
        """
        if status != "failed":
            self.close()
            return
        try:
            self.close()
        except (WriteError, DlconfError):
            log.exception("the %s logger's writer failed while the run was failing", self._name)

    def raise_failures(self) -> None:
        """Raise :class:`WriteError` for the writes that failed since the last call, if any."""
        with self._lock:
            failures, self._failures = self._failures, []
        if not failures:
            return
        what, first = failures[0]
        if isinstance(first, DlconfError):
            raise first  # already the one line a user should read (a logger that cannot start)
        others = f" ({len(failures) - 1} later writes failed too)" if len(failures) > 1 else ""
        raise WriteError(
            f"{self._name} logger: writing {what} failed in the background writer{others}: "
            f"{type(first).__name__}: {first}"
        ) from first

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                what, write = item
                try:
                    write()
                except Exception as error:  # surfaced in the training thread, never dropped
                    with self._lock:
                        self._failures.append((what, error))
            finally:
                self._queue.task_done()


def snapshot(entry: LogEntry) -> LogEntry:
    """``entry`` as it is now, safe to write later from the writer thread.

    An image becomes a CPU copy (the evaluation may reuse its tensor; a GPU tensor is
    copied here, in stream order). A figure is closed here: pyplot's figure registry is
    global state the training thread may be using, while drawing a closed figure into a
    PNG, as the writer then does, touches that figure alone.
    """
    if isinstance(entry, ImageEntry):
        return ImageEntry(entry.image.detach().to("cpu", copy=True))
    if isinstance(entry, ScalarsEntry):
        return ScalarsEntry(dict(entry.values))
    if isinstance(entry, PlotEntry):
        import matplotlib.pyplot as plt  # pyplot is slow to import; only figures need it

        plt.close(entry.figure)
    return entry
