from dlconf import Experiment
from experiments.mnist.configs import MNIST_DATA
from tests.typing.cases._common import Params, optimization

x = Experiment(
    name="x",
    params=Params(),
    data=MNIST_DATA,
    optimization=optimization,
    train_for="10 epcohs",  # expect-error
)
