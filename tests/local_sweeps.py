"""Small grid sweeps over the MNIST VAE's learning rate, for the local-sweep tests.

    python -m tests.local_sweeps grid --local 4 data=synthetic ...
    python -m tests.local_sweeps hyperband --local 2 data=synthetic ...

Grids, so the trials and their order are the same in every sweep (W&B's grid search is
deterministic); the learning rates are far apart, so the ranking is too.
"""

from __future__ import annotations

import sys

from dlconf import VALID
from dlconf.sweeps import Hyperband, Sweep, Values, main, vary
from experiments.mnist_vae import elbo, experiment

p = experiment.param_links

GRID = Sweep(
    experiment=experiment,
    method="grid",
    metric=elbo.on(VALID),
    parameters=[vary(p.lr).over(Values([3e-3, 1e-3, 3e-4, 1e-4]))],
    name="vae_lr_grid",
)

HYPERBAND = Sweep(
    experiment=experiment,
    method="grid",
    metric=elbo.on(VALID),
    # The second trial's learning rate is far too small: at the first band (its 2nd
    # evaluation) its ELBO is still that of the untrained model.
    parameters=[vary(p.lr).over(Values([3e-3, 1e-7]))],
    early_terminate=Hyperband(min_iter=2, eta=3),
    name="vae_lr_hyperband",
)

SWEEPS = {"grid": GRID, "hyperband": HYPERBAND}

if __name__ == "__main__":
    main(SWEEPS[sys.argv[1]], sys.argv[2:])
