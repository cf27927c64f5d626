"""Devices: everything that belongs to a machine rather than to an experiment.

A device is a frozen dataclass subclassing :class:`Device`, registered under a name with
:func:`register_device`. The runner picks one by the ``DEVICE_NAME`` environment variable
(``device=NAME`` on the command line wins), so the same experiment runs unchanged on a
laptop, a workstation and a cluster node. With no ``DEVICE_NAME``, :data:`DEFAULT_DEVICE`
runs: data and runs under the working directory, whatever accelerator is there.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from dlconf.errors import UnknownDeviceError, close_matches

DEVICE_ENV_VAR = "DEVICE_NAME"
DEFAULT_DEVICE = "default"


@dataclass(frozen=True)
class Device:
    """Paths, data loading and the Trainer's hardware arguments of one machine."""

    data_root: str = "data"
    """Root folder of the data sets (each data set keeps its own sub-folder)."""
    experiments_root: str = "runs"
    """Where run folders are created."""
    download_files: bool = True
    """Whether data sets may be downloaded; off on machines without a network."""
    num_workers: int = 0
    """DataLoader worker processes for data sets read sample by sample."""
    pin_memory: bool = False
    """Pin host memory for faster copies to a GPU."""
    accelerator: str = "auto"
    """Lightning accelerator: ``cpu``, ``gpu``, ``cuda``, ``mps`` or ``auto``."""
    devices: str = "auto"
    """Lightning devices: a count (``"2"``), a list (``"0,1"``) or ``"auto"``."""
    strategy: str = "auto"
    """Lightning strategy: ``auto``, ``ddp``, ``ddp_spawn``, ..."""
    num_nodes: int = 1
    """Machines taking part in one run (DDP across nodes)."""
    precision: str = "32-true"
    """Lightning precision: ``32-true``, ``16-mixed``, ``bf16-mixed``, ..."""

    def __post_init__(self) -> None:
        if self.num_workers < 0:
            raise ValueError(
                f"device.num_workers must be >= 0, got {self.num_workers}; try device.num_workers=0"
            )
        if self.num_nodes < 1:
            raise ValueError(f"device.num_nodes must be >= 1, got {self.num_nodes}")


D = TypeVar("D", bound=type[Device])

_REGISTRY: dict[str, type[Device]] = {}


def register_device(name: str) -> Callable[[D], D]:
    """Class decorator: make a :class:`Device` subclass selectable as ``name``."""

    def register(cls: D) -> D:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls!r} must be a dataclass subclassing dlconf.Device")
        _REGISTRY[name] = cls
        return cls

    return register


def registered_devices() -> Mapping[str, type[Device]]:
    """Every registered device by name (the embedded default included)."""
    return dict(_REGISTRY)


def selected_device_name(environ: Mapping[str, str] = os.environ) -> str:
    """The device named by ``DEVICE_NAME``, or the default; unknown names fail at once."""
    name = environ.get(DEVICE_ENV_VAR, "").strip() or DEFAULT_DEVICE
    check_device_name(name, source=f"{DEVICE_ENV_VAR}={name}")
    return name


def check_device_name(name: str, source: str) -> None:
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownDeviceError(
            f"unknown device in {source}{close_matches(name, _REGISTRY)}. "
            f"Known devices: {known}. Add one with @register_device in devices/."
        )


register_device(DEFAULT_DEVICE)(Device)
