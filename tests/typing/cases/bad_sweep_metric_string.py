from dlconf.sweeps import Sweep, Values, vary
from experiments.mnist_vae import experiment
from tests.typing.cases._common import p

sweep = Sweep(
    experiment=experiment,
    method="grid",
    metric="ELBO/Validation",  # expect-error
    parameters=[vary(p.z_dim).over(Values([2]))],
)
