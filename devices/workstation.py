"""A GPU workstation: one CUDA GPU, mixed precision, data on a local SSD."""

from dataclasses import dataclass

from dlconf import Device, register_device


@register_device("workstation")
@dataclass(frozen=True)
class Workstation(Device):
    data_root: str = "/data/datasets"
    experiments_root: str = "/data/experiments"
    download_files: bool = True
    num_workers: int = 8
    pin_memory: bool = True
    accelerator: str = "gpu"
    devices: str = "1"
    # bf16 keeps float32's range, so no loss scaling; Ampere or newer GPUs run it natively.
    precision: str = "bf16-mixed"
