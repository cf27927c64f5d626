"""Conv architectures for CelebA-shaped images, built from typed layer lists.

The seed's layers (``params.encoder_layers`` / ``decoder_layers``) were written for images
center-cropped to 218: torchvision's ``CenterCrop(218)`` on a 178-wide, 218-tall image *pads*
20 black columns on each side, so the convs see a 218 x 218 frame. Here the images stay as
they are, ``(3, 218, 178)``, with the landmarks in their own pixel coordinates, and the
frame is the architectures' business:

- the encoder pads its input into the square frame (``max(H, W)`` a side, centred, zeros:
  exactly what the seed's crop did) before its convs;
- the decoder's transposed convs must end at the frame, ``(3, 218, 218)``, whose centre
  ``(3, 218, 178)`` is cropped out: the likelihood scores real pixels only, not the bars.

Every shape is computed from the layer list when the network is built, so a list that does
not fit fails before training with one line naming the layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.distributions import Distribution, Independent, Normal
from torch.nn import functional as F

from dlconf.models.roles import Decoder, Encoder, LatentPredictor
from dlconf.settings import reporting_init_errors
from experiments.mnist.architectures import mlp

IMAGE_SIZE = (218, 178)
"""CelebA's aligned images: height, width."""
CHANNELS = 3
N_LANDMARKS = 5
"""Eyes, nose, mouth corners: 10 numbers ``(x, y)`` in CelebA's order."""
MIN_SCALE = 1e-5  # keeps a Normal proper when softplus underflows to 0


@dataclass(repr=False)
class ConvLayer:
    """One convolution: ``nn.Conv2d`` arguments in an encoder, ``nn.ConvTranspose2d`` ones in
    a decoder. ``params.encoder_layers.0.out_channels=32`` changes one on the command line."""

    in_channels: int
    out_channels: int
    kernel_size: int
    stride: int
    padding: int = 0

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "kernel_size", "stride"):
            if getattr(self, name) < 1:
                raise ValueError(f"ConvLayer {name} must be >= 1, got {self.as_override()}")
        if self.padding < 0:
            raise ValueError(f"ConvLayer padding must be >= 0, got {self.as_override()}")

    def __repr__(self) -> str:
        return self.as_override()

    def as_override(self) -> str:
        """The layer in Hydra's override grammar, so `--help` and errors show what to type:
        ``params.encoder_layers=[{in_channels:3,out_channels:64,kernel_size:5,stride:2},...]``.
        """
        return (
            f"{{in_channels:{self.in_channels},out_channels:{self.out_channels},"
            f"kernel_size:{self.kernel_size},stride:{self.stride},padding:{self.padding}}}"
        )

    def describe(self) -> str:
        return (
            f"{self.in_channels}->{self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )


# A bad layer written in an experiment module fails while the module is imported: as a
# one-line ConfigError (dlconf prints those without a traceback), like a bad params field.
reporting_init_errors(ConvLayer)


def conv_output(size: int, layer: ConvLayer) -> int:
    """Side of ``nn.Conv2d``'s output for an input side ``size`` (0 or less: does not fit)."""
    return (size + 2 * layer.padding - layer.kernel_size) // layer.stride + 1


def transposed_output(size: int, layer: ConvLayer) -> int:
    """Side of ``nn.ConvTranspose2d``'s output for an input side ``size``."""
    return (size - 1) * layer.stride - 2 * layer.padding + layer.kernel_size


def _frame(image_size: Sequence[int]) -> int:
    height, width = _image_size(image_size)
    return max(height, width)


def _image_size(image_size: Sequence[int]) -> tuple[int, int]:
    if len(image_size) != 2 or min(image_size) < 1:
        raise ValueError(f"image_size must be [height, width], got {list(image_size)}")
    return image_size[0], image_size[1]


def _layers(role: str, layers: Sequence[ConvLayer]) -> list[ConvLayer]:
    if not layers:
        raise ValueError(f"the {role} needs at least one ConvLayer")
    return list(layers)


def _check_channels(role: str, layers: Sequence[ConvLayer], channels: int, source: str) -> None:
    for index, layer in enumerate(layers):
        if layer.in_channels != channels:
            raise ValueError(
                f"{role} layer {index} ({layer.describe()}) takes in_channels="
                f"{layer.in_channels}, but {source} gives {channels}"
            )
        channels, source = layer.out_channels, f"layer {index}"


def _stack(layers: Sequence[ConvLayer], transposed: bool) -> nn.Sequential:
    """The convs with ReLU between them (none after the last)."""
    kind = nn.ConvTranspose2d if transposed else nn.Conv2d
    modules: list[nn.Module] = []
    for layer in layers:
        modules += [
            kind(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
            ),
            nn.ReLU(),
        ]
    return nn.Sequential(*modules[:-1])


class ConvEncoder(Encoder):
    """q(z|x): images ``(..., 3, H, W)`` to a diagonal Gaussian over ``(..., z_dim)``.

    The image is padded into its square frame, run through ``layers`` (ReLU between), and
    the last feature map is read out linearly into the Gaussian's mean and scale.
    """

    def __init__(
        self, z_dim: int, layers: Sequence[ConvLayer], image_size: Sequence[int] = IMAGE_SIZE
    ) -> None:
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"z_dim must be >= 1, got {z_dim}")
        convs = _layers("encoder", layers)
        self.image_size = _image_size(image_size)
        frame = _frame(image_size)
        _check_channels("encoder", convs, CHANNELS, "an RGB image")
        side = frame
        for index, layer in enumerate(convs):
            out = conv_output(side, layer)
            if out < 1:
                raise ValueError(
                    f"encoder layer {index} ({layer.describe()}) gets a {side}x{side} input, "
                    f"too small for its kernel (images {self.image_size[0]}x"
                    f"{self.image_size[1]} in a {frame}x{frame} frame)"
                )
            side = out
        self.features = convs[-1].out_channels * side * side
        self.convs = _stack(convs, transposed=False)
        self.head = nn.Linear(self.features, 2 * z_dim)
        height, width = self.image_size
        # (left, right, top, bottom), the seed's CenterCrop(218) padding.
        self.padding = (
            (frame - width) // 2,
            (frame - width + 1) // 2,
            (frame - height) // 2,
            (frame - height + 1) // 2,
        )

    def forward(self, x: Tensor) -> Distribution:
        batch = x.shape[:-3]
        x = x.reshape(-1, *x.shape[-3:])  # (B, 3, H, W)
        framed = F.pad(x, self.padding)  # (B, 3, S, S)
        h: Tensor = self.convs(framed).flatten(start_dim=1)  # (B, features)
        h = self.head(F.relu(h))  # (B, 2 * z_dim)
        loc, raw_scale = h.reshape(*batch, -1).chunk(2, dim=-1)  # (..., z_dim) each
        return Independent(Normal(loc, F.softplus(raw_scale) + MIN_SCALE), 1)


class ConvDecoder(Decoder):
    """p(x|z): codes ``(..., z_dim)`` to independent Normal pixels ``(..., 3, H, W)``.

    ``z`` is mapped linearly to a ``(layers[0].in_channels, 1, 1)`` map, the transposed convs
    (ReLU between) must grow it to the square frame ``(3, S, S)``, and its centre ``H x W``
    is the image. Pixel means go through a sigmoid (pixels are in [0, 1]); ``sigma`` is the
    fixed standard deviation of every pixel.
    """

    def __init__(
        self,
        z_dim: int,
        layers: Sequence[ConvLayer],
        sigma: float = 1.0,
        image_size: Sequence[int] = IMAGE_SIZE,
    ) -> None:
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"z_dim must be >= 1, got {z_dim}")
        if sigma <= 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        convs = _layers("decoder", layers)
        self.image_size = _image_size(image_size)
        frame = _frame(image_size)
        _check_channels("decoder", convs, convs[0].in_channels, "the code's linear map")
        side = 1
        for layer in convs:
            side = transposed_output(side, layer)
        last = len(convs) - 1
        if convs[-1].out_channels != CHANNELS or side != frame:
            height, width = self.image_size
            raise ValueError(
                f"decoder layer {last} ({convs[-1].describe()}) ends at "
                f"{convs[-1].out_channels}x{side}x{side}; it must end at {CHANNELS}x{frame}x"
                f"{frame}, the frame cropped to the {CHANNELS}x{height}x{width} images"
            )
        self.start_channels = convs[0].in_channels
        self.head = nn.Linear(z_dim, self.start_channels)
        self.convs = _stack(convs, transposed=True)
        self.sigma = sigma
        height, width = self.image_size
        self.top, self.left = (frame - height) // 2, (frame - width) // 2

    def forward(self, z: Tensor) -> Distribution:
        batch = z.shape[:-1]
        h = F.relu(self.head(z.reshape(-1, z.shape[-1])))  # (B, C0)
        frame: Tensor = self.convs(h[:, :, None, None])  # (B, 3, S, S)
        height, width = self.image_size
        logits = frame[:, :, self.top : self.top + height, self.left : self.left + width]
        loc = torch.sigmoid(logits).reshape(*batch, CHANNELS, height, width)  # (..., 3, H, W)
        return Independent(Normal(loc, torch.full_like(loc, self.sigma)), 3)


class LandmarkPredictor(LatentPredictor):
    """q(y|z): codes ``(..., z_dim)`` to a diagonal Normal over 10 landmark coordinates.

    Coordinates are pixels, ``(x, y)`` per landmark as CelebA lists them. The MLP's outputs
    are offsets from the image centre in half-image units (so an untrained predictor guesses
    the centre, not the corner), and scales in the same units.
    """

    centre: Tensor
    half_size: Tensor

    def __init__(
        self, z_dim: int, layers: Sequence[int] = (), image_size: Sequence[int] = IMAGE_SIZE
    ) -> None:
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"z_dim must be >= 1, got {z_dim}")
        if any(size < 1 for size in layers):
            raise ValueError(f"layer sizes must all be >= 1, got layers={list(layers)}")
        height, width = _image_size(image_size)
        self.net = mlp([z_dim, *layers, 4 * N_LANDMARKS])
        half = torch.tensor([width / 2, height / 2]).repeat(N_LANDMARKS)  # (10,) x, y, ...
        self.register_buffer("half_size", half)
        self.register_buffer("centre", half.clone())

    def forward(self, z: Tensor) -> Distribution:
        h: Tensor = self.net(z)  # (..., 20)
        raw_loc, raw_scale = h.chunk(2, dim=-1)  # (..., 10) each
        loc = self.centre + self.half_size * raw_loc  # (..., 10) pixels
        scale = self.half_size * (F.softplus(raw_scale) + MIN_SCALE)  # (..., 10)
        return Independent(Normal(loc, scale), 1)
