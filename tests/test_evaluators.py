"""Evaluators: what each computes, under which key, and what each mistake says.

Real VAE / VIB models over 4x4 binary pictures check shapes and ranges end to end; small
deterministic models check the numbers themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest
import torch
from torch import Tensor, nn
from torch.distributions import Bernoulli, Categorical, Distribution, Independent, Normal
from torch.utils.data import Dataset

from dlconf.data import DataSplits, Sample
from dlconf.evaluation import (
    AccuracyEvaluation,
    ELBOEvaluation,
    Evaluation,
    ImageEntry,
    ImageReconstructionEvaluation,
    ImageSampleEvaluation,
    ScalarsEntry,
)
from dlconf.models import VAE, VIB, Decoder, Encoder, LatentClassifier, Prior
from dlconf.optimization import AdamBatchOptimization

Z_DIM = 2
N_CLASSES = 3
NO_SHAPE = torch.Size()


class DictDataset(Dataset[Sample]):
    """``{"x": x[i], "y": y[i]}`` samples."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> Sample:
        return {"x": self.x[index], "y": self.y[index]}


def pictures(n: int, seed: int) -> DictDataset:
    generator = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 1, 4, 4, generator=generator) > 0.5).float()  # (n, 1, 4, 4) binary
    y = torch.randint(0, N_CLASSES, (n,), generator=generator)  # (n,)
    return DictDataset(x, y)


def splits(n: int = 12) -> DataSplits:
    return {"train": pictures(n, 0), "valid": pictures(n, 1), "test": pictures(n, 2)}


class LinearEncoder(Encoder):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(16, 2 * Z_DIM)

    def forward(self, x: Tensor) -> Distribution:
        mean, scale = self.linear(x.flatten(1)).chunk(2, dim=-1)  # (B, z_dim) each
        return Independent(Normal(mean, nn.functional.softplus(scale) + 1e-3), 1)


class LinearDecoder(Decoder):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(Z_DIM, 16)

    def forward(self, z: Tensor) -> Distribution:
        logits = self.linear(z).unflatten(-1, (1, 4, 4))  # (..., 1, 4, 4)
        return Independent(Bernoulli(logits=logits), 3)


class LinearClassifier(LatentClassifier):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(Z_DIM, N_CLASSES)

    def forward(self, z: Tensor) -> Distribution:
        return Categorical(logits=self.linear(z))


class NormalPrior(Prior):
    def __init__(self) -> None:
        super().__init__()
        self.zeros = nn.Buffer(torch.zeros(Z_DIM))  # follows the model to its device

    def forward(self) -> Distribution:
        return Independent(Normal(self.zeros, torch.ones_like(self.zeros)), 1)


def optimization_of(model: nn.Module, data: DataSplits | None = None) -> AdamBatchOptimization:
    # AdamBatchOptimization wants a TrainableModel; the stubs below are not, on purpose.
    return AdamBatchOptimization(model, data or splits(), batch_size=4, lr=1e-3)  # type: ignore[arg-type]


def vae() -> AdamBatchOptimization:
    torch.manual_seed(0)
    return optimization_of(VAE(LinearEncoder(), LinearDecoder(), NormalPrior(), beta=1.0))


def vib() -> AdamBatchOptimization:
    torch.manual_seed(0)
    return optimization_of(VIB(LinearEncoder(), LinearClassifier(), NormalPrior(), beta=1.0))


class IndexedData(Dataset[Sample]):
    """Sample ``i`` is ``x = [i]``, ``y = i % 2``: every number below is known in advance."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> Sample:
        return {"x": torch.tensor([float(index)]), "y": torch.tensor(index % 2)}


class IndexLikelihood(nn.Module):
    """``elbo(x) = -x``: the mean ELBO of the first n samples is ``-(n - 1) / 2``."""

    def elbo(self, x: Tensor) -> Tensor:
        return -x[:, 0]  # (B,)


class AlwaysZero(nn.Module):
    """Predicts label 0 for every input, as probabilities."""

    def predict(self, x: Tensor) -> Distribution:
        return Categorical(probs=torch.tensor([0.9, 0.1]).expand(x.shape[0], 2))


class Unbounded(nn.Module):
    """Samples far outside [0, 1], like an unclamped Gaussian decoder mean."""

    def sample(self, sample_shape: torch.Size = NO_SHAPE) -> Tensor:
        return torch.linspace(-5, 5, 16 * sample_shape.numel()).reshape(*sample_shape, 1, 4, 4)


# ------------------------------------------------------------------------------ ELBO


def test_elbo_of_a_vae_is_one_finite_number_per_split_under_readable_keys() -> None:
    entry = ELBOEvaluation(n_samples=10, batch_size=4).evaluate(vae())

    assert isinstance(entry, ScalarsEntry)
    assert list(entry.values) == ["Train", "Validation"]
    assert all(math.isfinite(value) for value in entry.values.values())


@pytest.mark.parametrize(
    ("n_samples", "batch_size", "expected"),
    [
        (4, 512, -1.5),  # mean of -0, -1, -2, -3
        (5, 2, -2.0),  # batches of 2, 2, 1: the short batch weighs per example
        (100, 7, -9.5),  # more than the split holds: all 20 samples
    ],
)
def test_elbo_averages_the_first_samples_of_each_split(
    n_samples: int, batch_size: int, expected: float
) -> None:
    data = {"train": IndexedData(20), "test": IndexedData(20)}
    evaluation = ELBOEvaluation(n_samples, evaluate_on=["test"], batch_size=batch_size)

    entry = evaluation.evaluate(optimization_of(IndexLikelihood(), data))

    assert entry.values == {"Test": pytest.approx(expected)}


# -------------------------------------------------------------------------- accuracy


def test_accuracy_of_a_vib_is_a_fraction_per_split() -> None:
    entry = AccuracyEvaluation(evaluate_on=("train", "valid", "test")).evaluate(vib())

    assert isinstance(entry, ScalarsEntry)
    assert list(entry.values) == ["Train", "Validation", "Test"]
    assert all(0.0 <= value <= 1.0 for value in entry.values.values())


@pytest.mark.parametrize(
    ("n_samples", "expected"),
    [
        (1, 1.0),  # sample 0 has y = 0
        (2, 0.5),
        (5, 0.6),  # y = 0, 1, 0, 1, 0
    ],
)
def test_accuracy_counts_arg_max_predictions_equal_to_y(n_samples: int, expected: float) -> None:
    data = {"train": IndexedData(10), "valid": IndexedData(10)}
    evaluation = AccuracyEvaluation(n_samples, evaluate_on=["valid"], batch_size=2)

    entry = evaluation.evaluate(optimization_of(AlwaysZero(), data))

    assert entry.values == {"Validation": pytest.approx(expected)}


# ---------------------------------------------------------------------------- images


def test_samples_are_one_row_of_pictures_in_the_unit_range() -> None:
    entry = ImageSampleEvaluation(n_pictures=3).evaluate(vae())

    assert isinstance(entry, ImageEntry)
    # 3 pictures of 4x4 with make_grid's 2-pixel padding, grey turned RGB.
    assert entry.image.shape == (3, 2 + 4 + 2, 2 + 3 * (4 + 2))
    assert 0.0 <= entry.image.min() <= entry.image.max() <= 1.0


def test_samples_outside_the_unit_range_are_clamped() -> None:
    image = ImageSampleEvaluation(n_pictures=2).evaluate(optimization_of(Unbounded())).image

    assert image.min() == 0.0
    assert image.max() == 1.0


def test_reconstructions_sit_under_the_originals() -> None:
    optimization = vae()

    image = ImageReconstructionEvaluation(n_pictures=3, evaluate_on="test").evaluate(optimization)

    assert image.image.shape == (3, 2 + 2 * (4 + 2), 2 + 3 * (4 + 2))
    first_original = optimization.data["test"][0]["x"][0]  # (4, 4)
    for channel in range(3):
        assert torch.equal(image.image[channel, 2:6, 2:6], first_original)
    first_reconstruction = image.image[0, 8:12, 2:6]
    assert 0.0 <= first_reconstruction.min() <= first_reconstruction.max() <= 1.0


# --------------------------------------------------------------------------- mistakes


@pytest.mark.parametrize(
    ("evaluation", "optimization", "message"),
    [
        (
            ELBOEvaluation(),
            vib,
            "ELBOEvaluation needs a LikelihoodModel, a model with elbo(x); "
            "VIB has no elbo() method",
        ),
        (
            AccuracyEvaluation(),
            vae,
            "AccuracyEvaluation needs a PredictiveModel, a model with predict(x); "
            "VAE has no predict() method",
        ),
        (
            ImageSampleEvaluation(),
            vib,
            "ImageSampleEvaluation needs a GenerativeModel, a model with "
            "sample(sample_shape); VIB has no sample() method",
        ),
        (
            ImageReconstructionEvaluation(),
            vib,
            "ImageReconstructionEvaluation needs a ReconstructingModel, a model with "
            "reconstruct(x); VIB has no reconstruct() method",
        ),
    ],
)
def test_a_model_without_the_ability_is_named_with_what_it_lacks(
    evaluation: Evaluation, optimization: Callable[[], AdamBatchOptimization], message: str
) -> None:
    with pytest.raises(TypeError) as error:
        evaluation.evaluate(optimization())
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ELBOEvaluation(n_samples=0), "ELBOEvaluation(n_samples=0) must be"),
        (lambda: ELBOEvaluation(batch_size=-1), "ELBOEvaluation(batch_size=-1) must be"),
        (
            lambda: ELBOEvaluation(evaluate_on="valid"),
            "ELBOEvaluation(evaluate_on='valid') must be a list of split names, "
            "e.g. evaluate_on=['valid']",
        ),
        (lambda: AccuracyEvaluation(evaluate_on=[]), "AccuracyEvaluation(evaluate_on=[])"),
        (
            lambda: AccuracyEvaluation(evaluate_on=["train", "train"]),
            "AccuracyEvaluation(evaluate_on=['train', 'train']) must name at least one split, "
            "each once",
        ),
        (lambda: ImageSampleEvaluation(n_pictures=0), "ImageSampleEvaluation(n_pictures=0)"),
        (
            lambda: ImageReconstructionEvaluation(evaluate_on=""),
            "ImageReconstructionEvaluation(evaluate_on='') must name a split",
        ),
    ],
)
def test_bad_arguments_are_quoted(build: Callable[[], Evaluation], message: str) -> None:
    with pytest.raises(ValueError) as error:
        build()
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    ("evaluate_on", "message"),
    [
        (["valdi"], "evaluate_on='valdi' names no data split (did you mean 'valid'?); "),
        (["train", "ood"], "evaluate_on='ood' names no data split; splits: train, valid, test"),
    ],
)
def test_an_unknown_split_lists_the_splits_there_are(
    evaluate_on: Sequence[str], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        ELBOEvaluation(evaluate_on=evaluate_on).evaluate(vae())
    assert str(error.value).startswith(message)


def test_a_prediction_that_is_not_categorical_is_refused() -> None:
    class Regressor(nn.Module):
        def predict(self, x: Tensor) -> Distribution:
            return Normal(x[:, 0], 1.0)

    data = {"train": IndexedData(4)}
    with pytest.raises(TypeError, match=r"categorical distribution .* got Normal"):
        AccuracyEvaluation(evaluate_on=["train"]).evaluate(optimization_of(Regressor(), data))
