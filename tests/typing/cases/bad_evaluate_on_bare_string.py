from dlconf import conf
from dlconf.evaluation import ELBOEvaluation

elbo = conf(ELBOEvaluation)(n_samples=64, evaluate_on="valid")  # expect-error
