"""Ctrl-C stops a run the way SIGTERM does: after the current step, with ``last.ckpt`` saved.

Lightning handles SIGTERM that way (a preempted job) but turns SIGINT into "attempting
graceful shutdown", exit 1, no checkpoint. While training runs, :class:`CtrlCAsSigterm`
hands the first Ctrl-C to Lightning's SIGTERM handler; a second one stops at once, as a
user pressing it twice expects. :func:`stop_signal` says which of the two stopped the run,
for its exit status (128 + the signal: 130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType

from lightning.pytorch import Callback, LightningModule, Trainer
from typing_extensions import override

log = logging.getLogger(__name__)

_received: list[int] = []


def stop_signal() -> int:
    """The signal that stopped training: SIGINT after a Ctrl-C, else SIGTERM."""
    return signal.SIGINT if signal.SIGINT in _received else signal.SIGTERM


class CtrlCAsSigterm(Callback):
    """From the first training step on, SIGINT is handled as Lightning handles SIGTERM."""

    @override
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        # Lightning has registered its SIGTERM handler by now, and restores the previous
        # SIGINT handler itself when fit ends (it saved every handler before fit).
        signal.signal(signal.SIGINT, _on_ctrl_c)


def _on_ctrl_c(signum: int, frame: FrameType | None) -> None:
    if signal.SIGINT in _received:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C: stop now
        os.kill(os.getpid(), signal.SIGINT)
        return
    _received.append(signal.SIGINT)
    log.warning("Ctrl-C: stopping after this step and saving last.ckpt (Ctrl-C again: stop now)")
    handler = signal.getsignal(signal.SIGTERM)
    if callable(handler):
        handler(signal.SIGTERM, frame)
