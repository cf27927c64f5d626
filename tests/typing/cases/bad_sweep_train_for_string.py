from dlconf import VALID
from dlconf.sweeps import Sweep, Values, vary
from experiments.mnist_vae import elbo, experiment
from tests.typing.cases._common import p

sweep = Sweep(
    experiment=experiment,
    method="grid",
    metric=elbo.on(VALID),
    parameters=[vary(p.z_dim).over(Values([2]))],
    train_for="10 epochs",  # expect-error
)
