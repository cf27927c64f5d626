"""The CelebA VAE's beta and learning rate, by Bayesian search on the validation ELBO.

python -m sweeps.celeba_vae --yaml > celeba_vae_sweep.yaml   # for `wandb sweep ...`
python -m sweeps.celeba_vae                                  # create it on W&B
python -m sweeps.celeba_vae --local 4 data=synthetic train_for="50 global_steps"
"""

from __future__ import annotations

from dlconf import VALID, epochs
from dlconf.sweeps import LogUniform, LogUniformValues, Sweep, main, vary
from experiments.celeba_vae import elbo, experiment

p = experiment.param_links  # typed as this experiment's own Params

sweep = Sweep(
    experiment=experiment,
    method="bayes",
    metric=elbo.on(VALID),
    parameters=[
        vary(p.beta).over(LogUniform(min=-10, max=0)),  # e^-10 to 1, around the seed's 0.005
        vary(p.lr).over(LogUniformValues(min=1e-5, max=1e-3)),
    ],
    train_for=epochs(5),
)

if __name__ == "__main__":
    main(sweep)
