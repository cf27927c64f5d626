from dlconf import conf
from experiments.celeba.architectures import ConvEncoder, ConvLayer

first = ConvLayer(in_channels=3, out_channels=64, kernel_size=5, stride=2)
encoder = conf(ConvEncoder)(z_dim=8, layers=[first, (64, 128, 7, 3)])  # expect-error
