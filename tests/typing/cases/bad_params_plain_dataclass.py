from dataclasses import dataclass

from dlconf import Experiment
from experiments.mnist.configs import MNIST_DATA
from tests.typing.cases._common import optimization


@dataclass
class Plain:
    beta: float = 0.5


x = Experiment(name="x", params=Plain(), data=MNIST_DATA, optimization=optimization)  # expect-error
