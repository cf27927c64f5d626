from dlconf import Experiment
from experiments.mnist.configs import MNIST_DATA
from tests.typing.cases._common import Params, elbo, optimization

x = Experiment(
    name="x",
    params=Params(),
    data=MNIST_DATA,
    optimization=optimization,
    evaluation={"ELBO": elbo},  # expect-error
)
