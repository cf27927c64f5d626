"""Continuing a run: ``resume=<run folder>`` or ``resume=last``.

A resumed run is the recorded run, continued: its ``config.yaml`` as it was, its weights,
optimizer state, counters, evaluation and train-for timers and random states from the
newest checkpoint, and its logs in the same place, with anything written after that
checkpoint dropped so no step appears twice. On the command line only these may change:

- ``train_for=...``: extending the budget is safe;
- display-only Trainer flags (:data:`DISPLAY_ONLY`): the progress bar, the log rhythm;
- the device (``device=NAME``, ``device.KEY=VALUE``): the machine may have changed. On the
  machine the run started on (the same ``DEVICE_NAME``) the run's own device overrides
  (``device.data_root=/my/data``) still hold, new ones on top; on another, that machine's
  device is used, and the run says so.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, OmegaConf

from dlconf.devices import DEVICE_ENV_VAR
from dlconf.errors import ConfigError
from dlconf.runner.run_folder import RunFolder

log = logging.getLogger(__name__)

RESUME_KEY = "resume"
LATEST = "last"
DISPLAY_ONLY = (
    "trainer.enable_progress_bar",
    "trainer.log_every_n_steps",
    "trainer.enable_model_summary",
)
"""Trainer flags that change what is shown, not what is trained."""
OVERRIDABLE_ON_RESUME = ("train_for", *DISPLAY_ONLY)
"""Keys a resumed run may change: anything else would make the run something other than
what was recorded."""


def split_resume(overrides: Sequence[str]) -> tuple[str | None, list[str]]:
    """The value of ``resume=...`` (None when absent) and the other overrides."""
    value = None
    rest: list[str] = []
    for override in overrides:
        if override.startswith(RESUME_KEY + "="):
            value = override.split("=", 1)[1]
        else:
            rest.append(override)
    return value, rest


def is_device_override(override: str) -> bool:
    key = override.partition("=")[0]
    return key == "device" or key.startswith("device.")


def device_overrides(folder: RunFolder, overrides: Sequence[str]) -> list[str]:
    """The device overrides the continued run composes its device with; new ones win."""
    new = [o for o in overrides if is_device_override(o)]
    history = folder.history()
    first: dict[str, Any] = history[0] if history else {}
    recorded_on = first.get("device_name") or None
    here = os.environ.get(DEVICE_ENV_VAR) or None
    if recorded_on != here:
        log.warning(
            "resume: %s ran on DEVICE_NAME=%s; it continues on this machine's device "
            "(DEVICE_NAME=%s), without the run's own device overrides",
            folder.path,
            recorded_on or "(unset)",
            here or "(unset)",
        )
        return new
    # Records before "args" existed hold [python, program, *args] as the command.
    args = first.get("args", first.get("command", [])[2:])
    recorded = [str(o) for o in args if is_device_override(str(o))]
    if any(o.partition("=")[0] == "device" for o in new):
        recorded = []  # another device chosen: the run's tweaks of its own device do not apply
    return [*recorded, *new]


def resumed_config(folder: RunFolder, overrides: Sequence[str], device: DictConfig) -> DictConfig:
    """The recorded config of ``folder`` with the allowed ``overrides`` and this ``device``."""
    cfg = folder.read_config()
    parser = OverridesParser.create()
    for override in overrides:
        if is_device_override(override):
            continue
        key = override.partition("=")[0]
        if key not in OVERRIDABLE_ON_RESUME:
            raise ConfigError(
                f"resume continues the run as recorded: {override!r} is refused (only "
                f"{', '.join(k + '=...' for k in OVERRIDABLE_ON_RESUME)} and the device may "
                "change). Start a new run to change anything else."
            )
        try:
            (parsed,) = parser.parse_overrides([override])
        except OverrideParseException as error:
            first = str(error).strip().splitlines()[0]
            raise ConfigError(f"cannot parse the override {override!r}: {first}") from None
        # The parsed value (`false` is a bool), as a composed config would hold it.
        OmegaConf.update(cfg, key, parsed.value(), merge=False)
    cfg.device = device
    return cfg
