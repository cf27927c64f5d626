"""The device used when ``DEVICE_NAME`` is unset: any machine, nothing to set up.

Data under ``./data``, runs under ``./runs``, downloads allowed, whatever accelerator
Lightning finds (a GPU if there is one, else the CPU).
"""

from dlconf import Device, register_device

DEFAULT = register_device(
    "default",
    Device(data_root="data", experiments_root="runs", download_files=True, accelerator="auto"),
)
