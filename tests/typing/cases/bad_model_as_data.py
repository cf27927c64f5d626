from dlconf import conf
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.architectures import DiagonalNormalPrior

prior = conf(DiagonalNormalPrior)(z_dim=8)
optimization = conf(AdamBatchOptimization)(model=prior, data={}, lr=1e-3, batch_size=8)  # expect-error
