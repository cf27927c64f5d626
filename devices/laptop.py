"""A laptop: CPU (or Apple's MPS through ``auto``), few workers, data in the home folder."""

from dlconf import Device, register_device

LAPTOP = register_device(
    "laptop",
    Device(
        data_root="~/datasets",
        experiments_root="~/experiments",
        download_files=True,
        num_workers=2,
        pin_memory=False,
        accelerator="auto",
        devices="1",
    ),
)
