from dataclasses import field

from dlconf import HyperParams
from experiments.celeba.architectures import ConvLayer


class Params(HyperParams):
    encoder_layers: list[ConvLayer] = field(
        default_factory=lambda: [ConvLayer(3, 64, kernel_size="5", stride=2)]  # expect-error
    )
