from dlconf import conf
from experiments.mnist.architectures import MNISTEncoder
from tests.typing.cases._common import p

encoder = conf(MNISTEncoder)(z_dim=p.z_dim, layer=p.encoder_layers)  # expect-error
