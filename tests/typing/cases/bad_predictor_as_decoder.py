from dlconf import conf
from dlconf.models import VAE
from experiments.celeba.architectures import LandmarkPredictor
from experiments.celeba.configs import ENCODER, PRIOR

predictor = conf(LandmarkPredictor)(z_dim=64, layers=[128])
model = conf(VAE)(encoder=ENCODER, decoder=predictor, prior=PRIOR, beta=0.005)  # expect-error
