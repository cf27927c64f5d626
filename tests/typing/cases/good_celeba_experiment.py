"""A correct CelebA experiment with typed conv layer lists: both checkers accept every line."""

from dataclasses import dataclass, field

from dlconf import Evaluate, Experiment, conf, link
from dlconf.evaluation import LandmarkErrorEvaluation, LandmarkImageEvaluation
from dlconf.models import VIB
from experiments.celeba.architectures import ConvEncoder, ConvLayer, LandmarkPredictor
from experiments.celeba.configs import PRIOR, celeba_data
from experiments.mnist.configs import batch_adam


@dataclass
class Params:
    z_dim: int = 16
    beta: float = 1e-3
    lr: float = 1e-3
    batch_size: int = 32
    image_size: list[int] = field(default_factory=lambda: [40, 32])
    encoder_layers: list[ConvLayer] = field(
        default_factory=lambda: [
            ConvLayer(in_channels=3, out_channels=16, kernel_size=4, stride=2),
            ConvLayer(in_channels=16, out_channels=32, kernel_size=5, stride=2, padding=0),
            ConvLayer(32, 64, 8, 1),
        ]
    )
    predictor_layers: list[int] = field(default_factory=lambda: [128])


p = link(Params, "params")
model = conf(VIB)(
    encoder=conf(ConvEncoder)(z_dim=p.z_dim, layers=p.encoder_layers, image_size=p.image_size),
    predictor=conf(LandmarkPredictor)(
        z_dim=p.z_dim, layers=p.predictor_layers, image_size=p.image_size
    ),
    prior=PRIOR,
    beta=p.beta,
)
experiment = Experiment(
    name="good_celeba",
    params=Params(),
    data=celeba_data("landmarks"),
    default_data="synthetic",
    optimization=batch_adam(model),
    evaluation={
        "LandmarkError": Evaluate(conf(LandmarkErrorEvaluation)(n_samples=64), every="1 epoch"),
        "Images/Landmarks": Evaluate(
            conf(LandmarkImageEvaluation)(padding=[0, 0]), every="1 epoch"
        ),
    },
    train_for="1 epoch",
)
