"""Variational Autoencoder on CelebA: the seed's ``experiment/CelebA_VAE.yaml``, typed.

The same VAE as ``mnist_vae``, with conv architectures from typed layer lists.

python -m experiments.celeba_vae                                   # CelebA in <data_root>/celeba
python -m experiments.celeba_vae data=synthetic train_for="50 global_steps"   # no data needed
python -m experiments.celeba_vae params.beta=0.01 params.decoder_layers.4.kernel_size=8
"""

from __future__ import annotations

from dataclasses import field

from dlconf import VALID, Checkpoint, Experiment, Run, conf, epochs, link, main, minutes
from dlconf.models import VAE
from experiments.celeba.architectures import ConvDecoder, ConvLayer
from experiments.celeba.configs import ENCODER, PRIOR, CelebAParams, celeba_data
from experiments.mnist.configs import BatchParams, batch_adam
from experiments.vae_evaluations import ELBOParams, ImageParams, VAEEvalParams, vae_evaluations


def seed_decoder_layers() -> list[ConvLayer]:
    """The seed's decoder (transposed convs): 256 x 1 x 1 up to the 218 x 218 frame."""
    return [
        ConvLayer(in_channels=256, out_channels=256, kernel_size=2, stride=1),
        ConvLayer(in_channels=256, out_channels=256, kernel_size=7, stride=3),
        ConvLayer(in_channels=256, out_channels=128, kernel_size=7, stride=3),
        ConvLayer(in_channels=128, out_channels=64, kernel_size=7, stride=3),
        ConvLayer(in_channels=64, out_channels=3, kernel_size=8, stride=2),
    ]


class Params(CelebAParams, BatchParams):
    """Every hyper-parameter of the experiment: model, architectures, optimization."""

    beta: float = 0.005
    """Weight of the KL regularization (beta-VAE); 1 gives the ELBO."""
    sigma: float = 1.0
    """Standard deviation of every pixel under the decoder."""
    decoder_layers: list[ConvLayer] = field(default_factory=seed_decoder_layers)
    """The decoder's transposed convolutions, code to image: they must end at the square
    frame (218 x 218 for CelebA), whose centre is the image."""
    lr: float = 1e-4
    batch_size: int = 64


class EvalParams(VAEEvalParams):
    """MNIST's evaluations, less often and on fewer examples: a CelebA image is 150 times
    an MNIST digit."""

    elbo: ELBOParams = field(default_factory=lambda: ELBOParams(every=minutes(5), n_samples=512))
    samples: ImageParams = field(default_factory=lambda: ImageParams(every=minutes(5)))
    reconstruction: ImageParams = field(default_factory=lambda: ImageParams(every=minutes(5)))


p = link(Params)
e = link(EvalParams)

model = conf(VAE)(
    encoder=ENCODER,
    decoder=conf(ConvDecoder)(
        z_dim=p.z_dim, layers=p.decoder_layers, sigma=p.sigma, image_size=p.image_size
    ),
    prior=PRIOR,
    beta=p.beta,
)

elbo, samples, reconstructions = vae_evaluations(e)

experiment = Experiment(
    name="celeba_vae",
    params=Params(),
    eval_params=EvalParams(),
    data=celeba_data("attr"),
    optimization=batch_adam(model),
    evaluation=[elbo, samples, reconstructions],
    seed=42,
    run=Run(project="VAE_experiments", name="CelebA_VAE"),
    train_for=epochs(10),
    checkpoint=Checkpoint(monitor=elbo.on(VALID)),
)

if __name__ == "__main__":
    main(experiment)
