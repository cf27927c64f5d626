from dlconf import Experiment
from experiments.mnist.configs import MNIST_DATA
from tests.typing.cases._common import Params, model

x = Experiment(name="x", params=Params(), data=MNIST_DATA, optimization=model)  # expect-error
