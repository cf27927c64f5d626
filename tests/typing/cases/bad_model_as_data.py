from dlconf import conf
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.architectures import DiagonalNormalPrior

prior = conf(DiagonalNormalPrior)(z_dim=8)
optimization = conf(AdamBatchOptimization)(
    model=prior,  # expect-error
    data={},
    lr=1e-3,
    batch_size=8,
)
