from dlconf import conf
from dlconf.evaluation import ImageReconstructionEvaluation

images = conf(ImageReconstructionEvaluation)(n_pictures=4, evaluate_on=["valid"])  # expect-error
