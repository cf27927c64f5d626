from dlconf import Evaluate, conf
from dlconf.evaluation import ELBOEvaluation
from tests.typing.cases._common import e

elbo = Evaluate("ELBO", conf(ELBOEvaluation)(n_samples=64), every=e.elbo.n_samples)  # expect-error
