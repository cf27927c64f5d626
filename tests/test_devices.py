"""Devices: DEVICE_NAME selects, unknown names fail with the list of known ones."""

from __future__ import annotations

import dataclasses

import pytest

import devices  # noqa: F401  (registers this project's devices)
import dlconf.devices
from dlconf import ConfigError, Device, UnknownDeviceError, register_device
from dlconf.devices import registered_devices, selected_device_name


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Devices a test registers are gone after it: other tests list the known ones."""
    monkeypatch.setattr(dlconf.devices, "_REGISTRY", dict(registered_devices()))


def test_project_devices_are_registered() -> None:
    assert {"default", "laptop", "workstation", "cluster"} <= set(registered_devices())


def test_every_device_is_a_frozen_device() -> None:
    for device in registered_devices().values():
        assert isinstance(device, Device)
        with pytest.raises(dataclasses.FrozenInstanceError):
            device.num_workers = 3  # type: ignore[misc]


def test_default_when_device_name_is_unset() -> None:
    assert selected_device_name({}) == "default"
    assert selected_device_name({"DEVICE_NAME": ""}) == "default"


def test_device_name_selects() -> None:
    assert selected_device_name({"DEVICE_NAME": "laptop"}) == "laptop"


def test_unknown_device_lists_known_ones_and_the_close_name() -> None:
    with pytest.raises(UnknownDeviceError) as error:
        selected_device_name({"DEVICE_NAME": "labtop"})
    message = str(error.value)
    assert "DEVICE_NAME=labtop" in message
    assert "did you mean 'laptop'" in message
    assert "cluster, default, laptop, workstation" in message


def test_range_checks_name_the_override() -> None:
    with pytest.raises(ConfigError, match=r"device.num_workers=0"):
        Device(num_workers=-1)


def test_a_misspelt_field_of_a_device_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"Device has no field 'num_workrs' \(did you mean"):
        Device(num_workrs=2)  # type: ignore[call-arg]


def test_a_subclass_field_that_looks_like_a_device_field_is_refused_as_a_typo() -> None:
    with pytest.raises(ConfigError, match=r"new field 'data_rot' \(did you mean 'data_root'\?\)"):

        class Mine(Device):
            data_rot: str = "/scratch"


@pytest.mark.usefixtures("scratch_registry")
def test_a_subclass_adds_fields_and_is_frozen_without_a_decorator() -> None:
    class Scratch(Device):
        scratch: str = "/tmp/scratch"

    device = register_device("scratch_test", Scratch(num_workers=1))
    assert registered_devices()["scratch_test"] is device
    with pytest.raises(dataclasses.FrozenInstanceError):
        device.scratch = "x"  # type: ignore[misc]


@pytest.mark.usefixtures("scratch_registry")
def test_a_device_written_the_old_way_still_registers() -> None:
    @register_device("old_style_test")
    @dataclasses.dataclass(frozen=True)
    class OldStyle(Device):
        num_workers: int = 3

    assert registered_devices()["old_style_test"].num_workers == 3
