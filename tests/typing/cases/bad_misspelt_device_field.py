from dlconf import DATA, conf
from dlconf.models import VAE
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTDecoder, MNISTEncoder
from tests.typing.cases._common import d, p

model = conf(VAE)(
    encoder=conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers),
    decoder=conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers),
    prior=conf(DiagonalNormalPrior)(z_dim=p.z_dim),
    beta=p.beta,
)
optimization = conf(AdamBatchOptimization)(
    model=model,
    data=DATA,
    lr=p.lr,
    batch_size=p.batch_size,
    num_workers=d.num_workrs,  # expect-error
)
