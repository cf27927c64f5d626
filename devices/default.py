"""The device used when ``DEVICE_NAME`` is unset: any machine, nothing to set up.

Data under ``./data``, runs under ``./runs``, downloads allowed, whatever accelerator
Lightning finds (a GPU if there is one, else the CPU).
"""

from dataclasses import dataclass

from dlconf import Device, register_device


@register_device("default")
@dataclass(frozen=True)
class Default(Device):
    data_root: str = "data"
    experiments_root: str = "runs"
    download_files: bool = True
    accelerator: str = "auto"
