"""A correct CelebA experiment with typed conv layer lists: both checkers accept every line."""

from dataclasses import field

from dlconf import VALID, Checkpoint, Evaluate, Experiment, HyperParams, conf, epochs, link
from dlconf.evaluation import LandmarkErrorEvaluation, LandmarkImageEvaluation
from dlconf.models import VIB
from experiments.celeba.architectures import ConvEncoder, ConvLayer, LandmarkPredictor
from experiments.celeba.configs import PRIOR, celeba_data
from experiments.mnist.configs import batch_adam


class Params(HyperParams):
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


p = link(Params)
model = conf(VIB)(
    encoder=conf(ConvEncoder)(z_dim=p.z_dim, layers=p.encoder_layers, image_size=p.image_size),
    predictor=conf(LandmarkPredictor)(
        z_dim=p.z_dim, layers=p.predictor_layers, image_size=p.image_size
    ),
    prior=PRIOR,
    beta=p.beta,
)
error = Evaluate("LandmarkError", conf(LandmarkErrorEvaluation)(n_samples=64), every=epochs(1))
picture = Evaluate("Images/Landmarks", conf(LandmarkImageEvaluation)(padding=[0, 0]), every=epochs(1))
experiment = Experiment(
    name="good_celeba",
    params=Params(),
    data=celeba_data("landmarks"),
    default_data="synthetic",
    optimization=batch_adam(model),
    evaluation=[error, picture],
    train_for=epochs(1),
    checkpoint=Checkpoint(monitor=error.on(VALID)),
)
