from dataclasses import dataclass, field

from experiments.celeba.architectures import ConvLayer


@dataclass
class Params:
    encoder_layers: list[ConvLayer] = field(
        default_factory=lambda: [ConvLayer(3, 64, kernel_size="5", stride=2)]  # expect-error
    )
