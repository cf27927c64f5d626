"""Shared pieces of the typing cases: params, eval params, their links, a model, evaluations."""

from dataclasses import field

from dlconf import (
    DATA,
    Device,
    Duration,
    EvalSettings,
    Evaluate,
    HyperParams,
    Split,
    conf,
    link,
    minutes,
)
from dlconf.evaluation import ELBOEvaluation, ImageSampleEvaluation
from dlconf.models import VAE
from dlconf.optimization import AdamBatchOptimization
from experiments.mnist.architectures import DiagonalNormalPrior, MNISTDecoder, MNISTEncoder


class Params(HyperParams):
    z_dim: int = 8
    beta: float = 0.5
    lr: float = 1e-3
    batch_size: int = 32
    encoder_layers: list[int] = field(default_factory=lambda: [16])
    decoder_layers: list[int] = field(default_factory=lambda: [16])


class ELBOParams(EvalSettings):
    every: Duration = minutes(1)
    n_samples: int = 64
    evaluate_on: Split = "valid"


class EvalParams(EvalSettings):
    elbo: ELBOParams = field(default_factory=ELBOParams)


p = link(Params)
e = link(EvalParams)
d = link(Device)

model = conf(VAE)(
    encoder=conf(MNISTEncoder)(z_dim=p.z_dim, layers=p.encoder_layers),
    decoder=conf(MNISTDecoder)(z_dim=p.z_dim, layers=p.decoder_layers),
    prior=conf(DiagonalNormalPrior)(z_dim=p.z_dim),
    beta=p.beta,
)
optimization = conf(AdamBatchOptimization)(
    model=model,
    data=DATA,
    lr=p.lr,
    batch_size=p.batch_size,
    num_workers=d.num_workers,
    pin_memory=d.pin_memory,
)
elbo = Evaluate("ELBO", conf(ELBOEvaluation)(n_samples=e.elbo.n_samples), every=e.elbo.every)
samples = Evaluate("Images/Samples", conf(ImageSampleEvaluation)(n_pictures=4), every=minutes(1))
