"""A run's config as the flat ``{"params.beta": 0.5}`` mapping loggers record.

W&B sweeps address a hyper-parameter by its dotted path (``params.beta``), and W&B's run
table, like TensorBoard's hparams, compares runs key by key. So the composed config is
flattened: one dotted key per leaf, values resolved (``${params.beta}`` becomes ``0.5``).

What the experiment is, not where it ran: the ``device`` section and every value linked to
it (``optimization.num_workers: ${device.num_workers}``) are the machine's, so they are left
out; so are the ``logger`` section (how this run is recorded) and Hydra's own keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf

MACHINE_SECTIONS = ("device", "logger", "hydra")
"""Top-level sections that describe the machine or the recording, not the experiment."""

INSTANTIATE_FLAGS = ("_partial_", "_convert_", "_recursive_")
"""Hydra's instantiate switches: how to build a component, not what it is (``_target_`` stays)."""

_DEVICE_LINK = re.compile(r"^\$\{device\.[^}]*\}$")


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One ``"a.b.c"`` key per leaf of ``tree``; lists are leaves (a sweep sets them whole).

    >>> flatten({"params": {"beta": 0.5, "layers": [128, 64]}, "seed": 1})
    {'params.beta': 0.5, 'params.layers': [128, 64], 'seed': 1}
    """
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(cast(Mapping[str, Any], value), prefix=f"{path}."))
        else:
            flat[path] = value
    return flat


def experiment_config(cfg: DictConfig) -> dict[str, Any]:
    """The composed config as W&B's run config: flat, resolved, without the machine's keys."""
    machine = [
        key
        for key, value in flatten(_container(cfg, resolve=False)).items()
        if isinstance(value, str) and _DEVICE_LINK.match(value)
    ]
    excluded = (*MACHINE_SECTIONS, *machine)
    return {
        key: value
        for key, value in flatten(_container(cfg, resolve=True)).items()
        if not any(_within(key, section) for section in excluded)
        and key.rsplit(".", 1)[-1] not in INSTANTIATE_FLAGS
    }


def params_config(cfg: DictConfig) -> dict[str, Any]:
    """Only the hyper-parameters, ``params.*``, resolved: what TensorBoard shows as hparams."""
    if "params" not in cfg:
        return {}
    return flatten({"params": _container(cfg.params, resolve=True)})


def _container(cfg: DictConfig, *, resolve: bool) -> dict[str, Any]:
    # Keys of a composed config are strings; OmegaConf types them as Any.
    return cast(dict[str, Any], OmegaConf.to_container(cfg, resolve=resolve))


def _within(key: str, section: str) -> bool:
    return key == section or key.startswith(f"{section}.")
