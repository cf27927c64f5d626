from dlconf import Experiment, conf
from dlconf.models import VIB
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTEncoder, MNISTLatentClassifier
from experiments.mnist.configs import MNIST_DATA as data
from experiments.mnist.configs import batch_adam
from tests.typing.cases._common import Params, samples

vib = conf(VIB)(
    encoder=conf(MNISTEncoder)(z_dim=2, layers=[8]),
    classifier=conf(MNISTLatentClassifier)(z_dim=2, layers=[]),
    prior=conf(DiagonalNormalPrior)(z_dim=2),
    beta=1e-3,
)
x = Experiment(name="x", params=Params(), data=data, optimization=batch_adam(vib), evaluation=[samples])  # expect-error
