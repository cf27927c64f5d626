"""The MNIST VIB's trade-off: accuracy against how much the representation keeps of the input.

python -m sweeps.mnist_vib --yaml
python -m sweeps.mnist_vib --local 6 data=synthetic
"""

from __future__ import annotations

from dlconf import VALID, epochs
from dlconf.sweeps import IntUniform, LogUniformValues, Sweep, Values, main, vary
from experiments.mnist_vib import accuracy, experiment

p = experiment.param_links

sweep = Sweep(
    experiment=experiment,
    method="random",
    metric=accuracy.on(VALID),
    parameters=[
        vary(p.beta).over(LogUniformValues(min=1e-6, max=1.0)),
        vary(p.z_dim).over(IntUniform(min=2, max=64)),
        vary(p.classifier_layers).over(Values([[], [128]])),
    ],
    train_for=epochs(5),
)

if __name__ == "__main__":
    main(sweep)
