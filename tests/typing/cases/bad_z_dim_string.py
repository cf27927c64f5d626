from dlconf import conf
from experiments.mnist.architectures import MNISTEncoder

encoder = conf(MNISTEncoder)(z_dim="64", layers=[16])  # expect-error
