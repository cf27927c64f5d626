"""A SLURM cluster node, as the seed's ``ivi-cluster``: shared storage, no downloads.

Compute nodes have no internet, so data sets must already be under ``data_root``.
Lightning reads SLURM's environment itself (ranks, nodes) when the job runs under srun.
"""

from dataclasses import dataclass

from dlconf import Device, register_device


@register_device("cluster")
@dataclass(frozen=True)
class Cluster(Device):
    data_root: str = "/ssdstore/datasets"
    experiments_root: str = "/hddstore/experiments"
    download_files: bool = False
    num_workers: int = 16
    pin_memory: bool = True
    accelerator: str = "gpu"
    devices: str = "1"
    strategy: str = "auto"
