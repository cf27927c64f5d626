"""The MNIST VAE as a sweep agent starts it: ``DEVICE_NAME=test-agent python -m
tests.labelled_agent_run RUNS DATA overrides...``.

An agent's command line holds only the sweep's values, so the machine's folders come from
the device ``test-agent``: runs under RUNS, MNIST's IDX files under DATA.
"""

from __future__ import annotations

import sys

from dlconf import Device, main, register_device
from experiments.mnist_vae import experiment

if __name__ == "__main__":
    runs, data = sys.argv[1:3]
    register_device(
        "test-agent",
        Device(data_root=data, experiments_root=runs, download_files=False, accelerator="cpu"),
    )
    del sys.argv[1:3]
    main(experiment)
