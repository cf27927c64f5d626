from dlconf import Experiment
from experiments.mnist.configs import MNIST_DATA as data
from tests.typing.cases._common import EvalParams
from tests.typing.cases._common import optimization as opt

x = Experiment(name="x", params=EvalParams(), data=data, optimization=opt)  # expect-error
