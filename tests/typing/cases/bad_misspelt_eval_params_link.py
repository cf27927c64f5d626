from dlconf import conf
from dlconf.evaluation import ELBOEvaluation
from tests.typing.cases._common import e

evaluation = conf(ELBOEvaluation)(n_samples=e.elbo.n_sample)  # expect-error
