"""The CelebA conv networks: the seed's layer lists fit, and lists that do not fit say where."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from dlconf.errors import ConfigError
from experiments.celeba.architectures import (
    ConvDecoder,
    ConvEncoder,
    ConvLayer,
    LandmarkPredictor,
    conv_output,
    transposed_output,
)
from tests.conftest import ROOT

SEED_ENCODER = [
    ConvLayer(3, 64, 5, 2),
    ConvLayer(64, 128, 7, 3),
    ConvLayer(128, 256, 7, 3),
    ConvLayer(256, 256, 7, 3),
    ConvLayer(256, 256, 2, 1),
]
SEED_DECODER = [
    ConvLayer(256, 256, 2, 1),
    ConvLayer(256, 256, 7, 3),
    ConvLayer(256, 128, 7, 3),
    ConvLayer(128, 64, 7, 3),
    ConvLayer(64, 3, 8, 2),
]
B, Z = 2, 16


def test_seed_layers_take_the_218_frame_down_to_one_pixel_and_back() -> None:
    side = 218
    for layer in SEED_ENCODER:
        side = conv_output(side, layer)
    assert side == 1
    for layer in SEED_DECODER:
        side = transposed_output(side, layer)
    assert side == 218


def test_encoder_and_decoder_give_distributions_over_codes_and_218x178_images() -> None:
    x = torch.rand(B, 3, 218, 178)
    q = ConvEncoder(Z, SEED_ENCODER)(x)
    assert q.batch_shape == (B,)
    assert q.event_shape == (Z,)
    p = ConvDecoder(Z, SEED_DECODER, sigma=0.5)(q.rsample())
    assert p.event_shape == (3, 218, 178)
    assert p.log_prob(x).shape == (B,)
    assert p.stddev.unique().tolist() == [0.5]
    assert 0 < p.mean.min().item() <= p.mean.max().item() < 1


def test_encoder_sees_the_image_in_the_seeds_zero_padded_frame() -> None:
    encoder = ConvEncoder(Z, SEED_ENCODER)
    assert encoder.padding == (20, 20, 0, 0)  # CenterCrop(218) on 178 columns


def test_decoder_keeps_leading_sample_dimensions() -> None:
    layers = [ConvLayer(8, 3, 4, 1)]
    p = ConvDecoder(Z, layers, image_size=(4, 3))(torch.randn(5, B, Z))
    assert p.batch_shape == (5, B)
    assert p.sample().shape == (5, B, 3, 4, 3)


def test_landmark_predictor_gives_a_normal_over_ten_pixel_coordinates() -> None:
    q = LandmarkPredictor(Z, [32], image_size=(218, 178))(torch.zeros(B, Z))
    assert q.event_shape == (10,)
    assert q.log_prob(torch.full((B, 10), 100.0)).shape == (B,)
    # An untrained predictor guesses around the centre, not the corner.
    assert ((q.mean[:, 0::2] - 89).abs() < 89).all()
    assert ((q.mean[:, 1::2] - 109).abs() < 109).all()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: ConvEncoder(Z, [SEED_ENCODER[0], ConvLayer(32, 128, 7, 3)]),
            "encoder layer 1 (32->128, kernel_size=7, stride=3, padding=0) takes "
            "in_channels=32, but layer 0 gives 64",
        ),
        (
            lambda: ConvEncoder(Z, [ConvLayer(1, 8, 3, 1)]),
            "encoder layer 0 (1->8, kernel_size=3, stride=1, padding=0) takes in_channels=1, "
            "but an RGB image gives 3",
        ),
        (
            lambda: ConvEncoder(Z, [*SEED_ENCODER, ConvLayer(256, 256, 2, 1)]),
            "encoder layer 5 (256->256, kernel_size=2, stride=1, padding=0) gets a 1x1 input, "
            "too small for its kernel (images 218x178 in a 218x218 frame)",
        ),
        (
            lambda: ConvDecoder(Z, [*SEED_DECODER[:-1], ConvLayer(64, 3, 7, 2)]),
            "decoder layer 4 (64->3, kernel_size=7, stride=2, padding=0) ends at 3x217x217; "
            "it must end at 3x218x218, the frame cropped to the 3x218x178 images",
        ),
        (lambda: ConvLayer(3, 0, 3, 1), "ConvLayer out_channels must be >= 1, got {in_channels:3,"),
        (lambda: ConvDecoder(Z, SEED_DECODER, sigma=0), "sigma must be > 0, got 0"),
    ],
)
def test_layers_that_do_not_fit_fail_at_construction_naming_the_layer(
    build: object, message: str
) -> None:
    with pytest.raises((ValueError, ConfigError)) as error:
        build()  # type: ignore[operator]
    assert str(error.value).startswith(message)


def test_a_bad_layer_in_an_experiment_module_is_one_line_at_import() -> None:
    code = "from experiments.celeba.architectures import ConvLayer\nConvLayer(3, 64, 5, stride=0)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: ConvLayer stride must be >= 1, got "
        "{in_channels:3,out_channels:64,kernel_size:5,stride:0,padding:0}\n"
    )
