"""The CelebA landmark VIB's trade-off: landmark error against what z keeps of the image.

python -m sweeps.celeba_vib_landmarks --yaml
python -m sweeps.celeba_vib_landmarks --local 4 data=synthetic train_for="50 global_steps"
"""

from __future__ import annotations

from dlconf import VALID, epochs
from dlconf.sweeps import LogUniformValues, Sweep, main, vary
from experiments.celeba_vib_landmarks import experiment, landmark_error

p = experiment.param_links  # typed as this experiment's own Params

sweep = Sweep(
    experiment=experiment,
    method="bayes",
    metric=landmark_error.on(VALID),
    parameters=[
        vary(p.beta).over(LogUniformValues(min=1e-6, max=1.0)),
        vary(p.lr).over(LogUniformValues(min=1e-5, max=1e-3)),
    ],
    train_for=epochs(5),
)

if __name__ == "__main__":
    main(sweep)
