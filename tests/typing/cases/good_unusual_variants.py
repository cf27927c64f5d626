"""Correct but less common experiment code: both checkers must accept every line.

A params subclass, an experiment without eval params, a derived experiment, configs reused
across experiments, a custom evaluation with its own metric, ``conf`` of a torch module, a
device of one's own, a sweep over the experiment's links.
"""

import dataclasses
from dataclasses import field

from torch import Tensor, nn

from dlconf import (
    TRAIN,
    VALID,
    Batch,
    Checkpoint,
    Device,
    Evaluate,
    Experiment,
    conf,
    counted,
    epochs,
    iterations,
    link,
    minutes,
    register_device,
    seconds,
    train_loss,
)
from dlconf.evaluation.per_split import PerSplitMean
from dlconf.models import LikelihoodModel
from dlconf.sweeps import LogUniform, Sweep, Values, vary
from experiments.mnist.configs import MNIST_DATA
from tests.typing.cases._common import Params, elbo, optimization


class WiderParams(Params):
    extra_layers: list[int] = field(default_factory=lambda: [8, 8])


class NegativeELBO(PerSplitMean[LikelihoodModel]):
    higher_is_better = False
    ability = LikelihoodModel
    ability_method = "elbo(x)"

    def per_example(self, model: LikelihoodModel, batch: Batch) -> Tensor:
        return -model.elbo(batch["x"])


loss = Evaluate("NegELBO", conf(NegativeELBO)(evaluate_on=[TRAIN, VALID]), every=iterations(50))
base = Experiment(
    name="plain",
    params=WiderParams(),
    data=MNIST_DATA,
    default_data="synthetic",
    optimization=optimization,
    evaluation=[elbo, loss],
    train_for=minutes(30),
    checkpoint=Checkpoint(monitor=loss.on(VALID)),
)
longer = dataclasses.replace(base, name="longer", train_for=epochs(20))
by_loss = dataclasses.replace(base, checkpoint=Checkpoint(monitor=train_loss("regularization")))
head = conf(nn.Linear)(in_features=8, out_features=2)
rhythm = [seconds(90), counted(10, "generator_step"), epochs(2)]

p = link(WiderParams)
sweep = Sweep(
    experiment=base,
    method="grid",
    metric=loss.on(VALID),
    parameters=[
        vary(p.beta).over(LogUniform(min=-5, max=0)),
        vary(p.extra_layers).over(Values([[8], [16, 16]])),
    ],
    train_for=epochs(2),
)


class ScratchDevice(Device):
    scratch: str = "/scratch"


SCRATCH = register_device("scratch", ScratchDevice(num_workers=4, precision="bf16-mixed"))
GPU = register_device("gpu_box", Device(accelerator="gpu", devices="2", strategy="ddp"))
