from dlconf.sweeps import Values, vary
from experiments.mnist_vae import experiment

p = experiment.param_links
layers = vary(p.classifier_layers).over(Values([[], [128]]))  # expect-error
