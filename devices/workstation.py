"""A GPU workstation: one CUDA GPU, mixed precision, data on a local SSD."""

from dlconf import Device, register_device

WORKSTATION = register_device(
    "workstation",
    Device(
        data_root="/data/datasets",
        experiments_root="/data/experiments",
        download_files=True,
        num_workers=8,
        pin_memory=True,
        accelerator="gpu",
        devices="1",
        # bf16 keeps float32's range, so no loss scaling; Ampere or newer GPUs run it natively.
        precision="bf16-mixed",
    ),
)
