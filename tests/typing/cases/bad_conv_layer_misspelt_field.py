from experiments.celeba.architectures import ConvLayer

layer = ConvLayer(in_channels=3, out_channel=64, kernel_size=5, stride=2)  # expect-error
