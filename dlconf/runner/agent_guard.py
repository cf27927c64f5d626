"""What a run started by a sweep agent may be told on its command line.

A W&B agent builds the command line from values the W&B server sends, not from the
researcher's keyboard, and the run uploads its config. So such a run accepts only plain
``key=value`` overrides of the experiment's hyper-parameters (``params.*``,
``eval_params.*``, ``train_for``, ``seed``), and refuses anything that could choose code
(``_target_``), change Hydra or the machine (``hydra.*``, ``device``), add or delete keys
(``+``, ``~``), pass flags (``--cfg``, ``-m``, ``--experimental-rerun``...) or pull a value
from elsewhere: ``params.beta=${oc.env:WANDB_API_KEY}`` would copy a secret into the config
that W&B stores.

A run counts as an agent's when ``WANDB_SWEEP_ID`` is set (every ``wandb agent`` sets it) or
``DLCONF_SWEEP_AGENT`` is. When the agent also wrote this run's parameters to
``WANDB_SWEEP_PARAM_PATH``, each override must be one of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dlconf.errors import ConfigError

AGENT_ENV_VARS = ("WANDB_SWEEP_ID", "DLCONF_SWEEP_AGENT")
"""Set in a process an agent started: W&B's own, and one for other agents."""
SWEEP_PARAMS_ENV_VAR = "WANDB_SWEEP_PARAM_PATH"
"""Where ``wandb agent`` writes the parameters it sent to this run (a YAML file)."""

AGENT_KEY_PREFIXES = ("params.", "eval_params.")
AGENT_KEYS = ("train_for", "seed")
CONFIG_KEYWORDS = ("_target_", "_partial_", "_convert_", "_recursive_", "_args_")
"""Hydra's instantiate keywords: setting one chooses what code runs and how."""

_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def started_by_agent(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a sweep agent started this process."""
    return any(environ.get(name) for name in AGENT_ENV_VARS)


def check_agent_command_line(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> None:
    """Refuse ``argv`` (without the program) if an agent started us and it asks for more
    than plain values of the sweep's parameters; one line per refused argument."""
    if not started_by_agent(environ):
        return
    sweep_keys = _sweep_keys(environ.get(SWEEP_PARAMS_ENV_VAR))
    problems = [p for p in (override_problem(arg, sweep_keys) for arg in argv) if p]
    if problems:
        source = next(name for name in AGENT_ENV_VARS if environ.get(name))
        raise ConfigError("\n".join(f"sweep agent run ({source} is set): {p}" for p in problems))


def override_problem(arg: str, sweep_keys: Collection[str] | None = None) -> str | None:
    """Why an agent may not pass ``arg``, or None when it may."""
    if arg.startswith("-"):
        return f"refused {arg!r}: an agent passes key=value overrides only, no flags"
    if arg.startswith(("+", "~")):
        return f"refused {arg!r}: an agent sets existing keys only, without '+', '++' or '~'"
    key, equals, value = arg.partition("=")
    if not equals:
        return f"refused {arg!r}: not a key=value override"
    if key == "hydra" or key.startswith(("hydra.", "hydra/")):
        return f"refused {arg!r}: Hydra's own settings are not a sweep parameter"
    keyword = next((k for k in CONFIG_KEYWORDS if k in key.split(".")), None)
    if keyword is not None:
        return f"refused {arg!r}: {keyword} chooses what code runs, not a sweep parameter"
    if key == "device" or key.startswith(("device.", "device/")):
        return f"refused {arg!r}: the device belongs to the machine (DEVICE_NAME), not to the sweep"
    if not _PLAIN_KEY.fullmatch(key) or not _agent_key(key):
        return f"refused {arg!r}: an agent may set only params.*, eval_params.*, train_for and seed"
    if "${" in value:
        return (
            f"refused {arg!r}: a sweep value must be plain, not an interpolation or "
            "resolver (it could copy a secret such as WANDB_API_KEY into the run's config)"
        )
    if sweep_keys is not None and key not in sweep_keys:
        return (
            f"refused {arg!r}: not a parameter of this sweep "
            f"(it has: {', '.join(sorted(sweep_keys))})"
        )
    return None


def _agent_key(key: str) -> bool:
    return key in AGENT_KEYS or key.startswith(AGENT_KEY_PREFIXES)


def _sweep_keys(path: str | None) -> frozenset[str] | None:
    """The keys of the parameters the agent sent, or None where it wrote none."""
    if not path:
        return None
    try:
        # Loading resolves nothing, so a hostile value in the file is never evaluated.
        loaded = OmegaConf.load(Path(path))
    except (OSError, OmegaConfBaseException, ValueError):
        return None
    if not isinstance(loaded, DictConfig):
        return None
    # W&B writes `wandb_version: 1` above the parameters.
    return frozenset(str(key) for key in loaded if key != "wandb_version")
