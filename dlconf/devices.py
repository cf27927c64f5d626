"""Devices: everything that belongs to a machine rather than to an experiment.

A device is a :class:`Device` registered under a name with :func:`register_device`: an
instance (``register_device("laptop", Device(num_workers=2))``, where a misspelt field is a
type error) or a subclass adding fields of its own (a subclass is a frozen dataclass by
construction; a new field whose name is close to one of Device's is refused as a typo).
The runner picks one by the ``DEVICE_NAME`` environment variable (``device=NAME`` on the
command line wins), so the same experiment runs unchanged on a
laptop, a workstation and a cluster node. With no ``DEVICE_NAME``, :data:`DEFAULT_DEVICE`
runs: data and runs under the working directory, whatever accelerator is there.
"""

from __future__ import annotations

# The isinstance checks below repeat what the annotations say, on purpose: experiment
# code reaches them whether or not a type checker has read it.
# pyright: reportUnnecessaryIsInstance=false
import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar, cast, dataclass_transform, overload

from dlconf.errors import ConfigError, UnknownDeviceError, close_matches
from dlconf.settings import as_dataclass, refuse_near_duplicates, reporting_init_errors

DEVICE_ENV_VAR = "DEVICE_NAME"
DEFAULT_DEVICE = "default"

Accelerator: TypeAlias = Literal["auto", "cpu", "gpu", "cuda", "mps", "tpu", "xla"]
"""Lightning's accelerator names."""
Precision: TypeAlias = Literal[
    "32-true",
    "16-mixed",
    "bf16-mixed",
    "16-true",
    "bf16-true",
    "64-true",
    "transformer-engine",
    "transformer-engine-float16",
    "32",
    "16",
    "bf16",
    "64",
]
"""Lightning's precision names (the short ones are its older spellings)."""


def _refuse_change(self: object, name: str, *value: object) -> None:
    raise dataclasses.FrozenInstanceError(
        f"cannot change {type(self).__name__}.{name}: a device stays as it is during a run "
        f"(set device.{name}=... on the command line instead)"
    )


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
class _DeviceMeta(type):
    """Makes every Device subclass a frozen dataclass and refuses look-alike fields."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> _DeviceMeta:
        refuse_near_duplicates(f"device {name}", bases, namespace.get("__annotations__", {}))
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        cls = cast(_DeviceMeta, as_dataclass(cls, frozen=True))
        # One guard for every device, set on the root: a subclass's copy is dropped so that
        # a subclass written the old way, under @dataclass(frozen=True), can be processed
        # a second time without "Cannot overwrite attribute __setattr__".
        is_root = not any(isinstance(base, _DeviceMeta) for base in bases)
        for method in ("__setattr__", "__delattr__"):
            if is_root:
                setattr(cls, method, _refuse_change)
            elif method in cls.__dict__:
                delattr(cls, method)
        reporting_init_errors(cls)
        return cls


class Device(metaclass=_DeviceMeta):
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
    accelerator: Accelerator = "auto"
    """Lightning accelerator: ``cpu``, ``gpu``, ``cuda``, ``mps`` or ``auto``."""
    devices: str = "auto"
    """Lightning devices: a count (``"2"``), a list (``"0,1"``) or ``"auto"``."""
    strategy: str = "auto"
    """Lightning strategy: ``auto``, ``ddp``, ``ddp_spawn``, ..."""
    num_nodes: int = 1
    """Machines taking part in one run (DDP across nodes)."""
    precision: Precision = "32-true"
    """Lightning precision: ``32-true``, ``16-mixed``, ``bf16-mixed``, ..."""

    config_key: ClassVar[str] = "device"
    """Where links to a device point: ``link(Device).num_workers`` is ``${device.num_workers}``."""

    def __post_init__(self) -> None:
        if self.num_workers < 0:
            raise ValueError(
                f"device.num_workers must be >= 0, got {self.num_workers}; try device.num_workers=0"
            )
        if self.num_nodes < 1:
            raise ValueError(f"device.num_nodes must be >= 1, got {self.num_nodes}")


D = TypeVar("D", bound=Device)
DT = TypeVar("DT", bound=type[Device])

_REGISTRY: dict[str, Device] = {}


@overload
def register_device(name: str) -> Callable[[DT], DT]: ...
@overload
def register_device(name: str, device: D) -> D: ...
def register_device(name: str, device: Device | None = None) -> Any:
    """Make a device selectable as ``name``: ``register_device("laptop", Device(...))``.

    As a class decorator (``@register_device("laptop")``), registers the class's defaults.
    """
    if device is not None:
        _register(name, device)
        return device

    def register(cls: DT) -> DT:
        if not (isinstance(cls, type) and issubclass(cls, Device)):
            raise ConfigError(
                f"@register_device({name!r}) decorates a Device subclass, got {cls!r}"
            )
        _register(name, cls())
        return cls

    return register


def _register(name: str, device: Device) -> None:
    if not isinstance(device, Device):
        raise ConfigError(f"register_device({name!r}, ...) takes a Device, got {device!r}")
    _REGISTRY[name] = device


def registered_devices() -> Mapping[str, Device]:
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


register_device(DEFAULT_DEVICE, Device())
