from dlconf import Evaluate, conf
from dlconf.evaluation import ELBOEvaluation

elbo = Evaluate("ELBO", conf(ELBOEvaluation)(n_samples=64), every=5)  # expect-error
