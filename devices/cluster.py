"""A SLURM cluster node, as the seed's ``ivi-cluster``: shared storage, no downloads.

Compute nodes have no internet, so data sets must already be under ``data_root``.
Lightning reads SLURM's environment itself (ranks, nodes) when the job runs under srun.
"""

from dlconf import Device, register_device

CLUSTER = register_device(
    "cluster",
    Device(
        data_root="/ssdstore/datasets",
        experiments_root="/hddstore/experiments",
        download_files=False,
        num_workers=16,
        pin_memory=True,
        accelerator="gpu",
        devices="1",
        strategy="auto",
    ),
)
