"""The seed's ``sweeps/VAE_MNIST.yml``, typed: beta of the MNIST VAE, by Bayesian search.

python -m sweeps.mnist_vae --yaml > vae_sweep.yaml     # for `wandb sweep vae_sweep.yaml`
python -m sweeps.mnist_vae                             # create it on W&B, print the agent command
python -m sweeps.mnist_vae --local 10 data=synthetic   # ten trials here, no W&B server
"""

from __future__ import annotations

from dlconf import VALID, epochs
from dlconf.sweeps import LogUniform, Sweep, Values, main, vary
from experiments.mnist_vae import elbo, experiment

p = experiment.param_links  # typed as this experiment's own Params

sweep = Sweep(
    experiment=experiment,
    method="bayes",
    metric=elbo.on(VALID),
    parameters=[
        vary(p.beta).over(LogUniform(min=-20, max=2)),  # e^-20 to e^2, as the seed
        vary(p.batch_size).over(Values([64, 128])),
    ],
    train_for=epochs(10),
)

if __name__ == "__main__":
    main(sweep)
