from dlconf import conf
from dlconf.models import VAE
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTDecoder, MNISTEncoder
from tests.typing.cases._common import p

encoder = conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers)
decoder = conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers)
prior = conf(DiagonalNormalPrior)(z_dim=p.z_dim)
model = conf(VAE)(encoder=encoder, decoder=decoder, prior=prior, beta=p.bta)  # expect-error
