"""A laptop: CPU (or Apple's MPS through ``auto``), few workers, data in the home folder."""

from dataclasses import dataclass

from dlconf import Device, register_device


@register_device("laptop")
@dataclass(frozen=True)
class Laptop(Device):
    data_root: str = "~/datasets"
    experiments_root: str = "~/experiments"
    download_files: bool = True
    num_workers: int = 2
    pin_memory: bool = False
    accelerator: str = "auto"
    devices: str = "1"
