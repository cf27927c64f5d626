"""Devices: DEVICE_NAME selects, unknown names fail with the list of known ones."""

from __future__ import annotations

import dataclasses

import pytest

import devices  # noqa: F401  (registers this project's devices)
from dlconf import Device, UnknownDeviceError
from dlconf.devices import registered_devices, selected_device_name


def test_project_devices_are_registered() -> None:
    assert {"default", "laptop", "workstation", "cluster"} <= set(registered_devices())


def test_every_device_is_a_frozen_device_dataclass() -> None:
    for cls in registered_devices().values():
        assert issubclass(cls, Device)
        with pytest.raises(dataclasses.FrozenInstanceError):
            cls().num_workers = 3  # type: ignore[misc]


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
    with pytest.raises(ValueError, match=r"device.num_workers=0"):
        Device(num_workers=-1)
