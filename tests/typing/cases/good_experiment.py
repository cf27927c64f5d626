"""A correct experiment: both checkers must accept every line."""

from dlconf import DATA, Evaluate, Experiment, conf
from dlconf.evaluation import ELBOEvaluation
from dlconf.models import VAE
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTDecoder, MNISTEncoder
from experiments.mnist.configs import MNIST_DATA
from tests.typing.cases._common import Params, d, p

encoder = conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers)
decoder = conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers)
prior = conf(DiagonalNormalPrior)(z_dim=p.z_dim)
model = conf(VAE)(encoder=encoder, decoder=decoder, prior=prior, beta=p.beta)
optimization = conf(AdamBatchOptimization)(
    model=model,
    data=DATA,
    lr=p.lr,
    batch_size=p.batch_size,
    num_workers=d.num_workers,
    pin_memory=d.pin_memory,
)
experiment = Experiment(
    name="good",
    params=Params(),
    data=MNIST_DATA,
    default_data="mnist",
    optimization=optimization,
    evaluation={"ELBO": Evaluate(conf(ELBOEvaluation)(n_samples=64), every="1 epoch")},
    train_for="1 epoch",
)
