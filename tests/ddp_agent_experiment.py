"""The MNIST VAE on a 2-process CPU DDP device (`python -m tests.ddp_agent_experiment`).

A sweep agent's run may not choose its device on the command line, so the device comes
from DEVICE_NAME, as on a cluster: ``DEVICE_NAME=test-cpu-ddp`` with its data and runs
folders from ``TEST_DATA_ROOT`` and ``TEST_EXPERIMENTS_ROOT``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dlconf import Device, main, register_device
from experiments.mnist_vae import experiment


@register_device("test-cpu-ddp")
@dataclass(frozen=True)
class CpuDdp(Device):
    data_root: str = os.environ.get("TEST_DATA_ROOT", "data")
    experiments_root: str = os.environ.get("TEST_EXPERIMENTS_ROOT", "runs")
    download_files: bool = False
    accelerator: str = "cpu"
    devices: str = "2"
    strategy: str = "ddp"


if __name__ == "__main__":
    main(experiment)
