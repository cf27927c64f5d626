#!/bin/bash
# A Hydra multirun on SLURM through the submitit launcher: one SLURM job per combination of
# the swept values (here 3 betas x 2 batch sizes = 6 jobs), no W&B server needed.
#
#   DEVICE_NAME=cluster bash sweeps/slurm/multirun_example.sh            # on the login node
#   LAUNCHER=submitit_local bash sweeps/slurm/multirun_example.sh \
#       data=synthetic "train_for=20 global_steps"                       # a try on this machine
#
# Extra arguments are passed on as overrides. Each job runs the config composed here, with
# the device DEVICE_NAME names here, so export it before submitting. submitit writes its job
# scripts and logs under <device.experiments_root>/multirun/<date>/.submitit/.
set -euo pipefail
cd "$(dirname "$0")/../.."

LAUNCHER="${LAUNCHER:-submitit_slurm}"
if [[ "${LAUNCHER}" == "submitit_slurm" ]]; then
    # sbatch's settings, as the launcher's typed fields (see `--cfg hydra -p hydra.launcher`).
    RESOURCES=(
        hydra.launcher.timeout_min=120
        hydra.launcher.gpus_per_node=1
        hydra.launcher.cpus_per_task=8
        hydra.launcher.mem_gb=32
        hydra.launcher.array_parallelism=4
    )
else
    RESOURCES=(hydra.launcher.timeout_min=30)
fi

python -m experiments.mnist_vae -m "hydra/launcher=${LAUNCHER}" "${RESOURCES[@]}" \
    params.beta=0.01,0.1,1.0 params.batch_size=64,128 "$@"
