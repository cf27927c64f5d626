from dlconf import conf
from experiments.mnist.architectures import MNISTEncoder

encoder = conf(MNISTEncoder)(z_dim=8, layers=["1024", "128"])  # expect-error
