from dlconf import conf
from dlconf.models import VAE
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTEncoder
from tests.typing.cases._common import p

encoder = conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers)
prior = conf(DiagonalNormalPrior)(z_dim=p.z_dim)
model = conf(VAE)(encoder=encoder, decoder=encoder, prior=prior, beta=p.beta)  # expect-error
