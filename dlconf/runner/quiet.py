"""What a run prints: the run folder, the progress, the result; not the libraries' chatter.

Lightning announces the hardware it did not find ("GPU available: False", "TPU
available"), advertises a cloud logger, prints a model summary, and warns about its own
internals (``LeafSpec`` is deprecated, ``weights_only`` was not set) and about a logging
rhythm longer than a tiny epoch. None of it is something a user of dlconf can act on, so a
run silences exactly those; everything else Lightning warns about still shows.
"""

from __future__ import annotations

import logging
import warnings

LIGHTNING_INFO_LOGGERS = (
    "lightning.pytorch.utilities.rank_zero",
    "lightning.fabric.utilities.rank_zero",
    # "`weights_only` was not set, defaulting to `False`" on every checkpoint it loads.
    "lightning.pytorch.trainer.connectors.checkpoint_connector",
)
"""Where Lightning's informational lines (hardware, tips, checkpoint loading) are logged."""

UNACTIONABLE_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",
    r"The number of training batches \(\d+\) is smaller than the logging interval.*",
    r"Checkpoint directory .* exists and is not empty.*",
)
"""Lightning's warnings about its own internals or about choices dlconf makes for the user
(a resumed run's checkpoint folder is meant to exist)."""


def quiet_libraries() -> None:
    """Silence the lines above for this process (and the DDP ranks it starts)."""
    for name in LIGHTNING_INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for message in UNACTIONABLE_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
