from dlconf import conf
from dlconf.models import VAE
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTDecoder, MNISTEncoder

encoder = conf(MNISTEncoder)(z_dim=8, layers=[16])
decoder = conf(MNISTDecoder)(z_dim=8, layers=[16])
prior = conf(DiagonalNormalPrior)(z_dim=8)
model = conf(VAE)(encoder=encoder, decoder=decoder, prior=prior, beta="0.5")  # expect-error
