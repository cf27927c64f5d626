from dlconf import conf
from dlconf.models import VAE
from experiments.mnist.architectures import MNISTDecoder, MNISTEncoder
from tests.typing.cases._common import p

encoder = conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers)
decoder = conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers)
model = conf(VAE)(encoder=encoder, decoder=decoder, prior=encoder, beta=p.beta)  # expect-error
