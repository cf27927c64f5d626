"""A correct experiment: both checkers must accept every line."""

from dlconf import VALID, Checkpoint, Experiment, Run, epochs, global_steps
from experiments.mnist.configs import MNIST_DATA
from tests.typing.cases._common import EvalParams, Params, elbo, optimization, samples

experiment = Experiment(
    name="good",
    params=Params(),
    eval_params=EvalParams(),
    data=MNIST_DATA,
    optimization=optimization,
    evaluation=[elbo, samples],
    run=Run(project="typing", name="good"),
    train_for=epochs(1),
    checkpoint=Checkpoint(monitor=elbo.on(VALID), every=global_steps(100)),
)
