"""SyntheticDigits is an MNIST stand-in: same shapes, deterministic, balanced, learnable."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from experiments.mnist.synthetic import DEFAULT_SIZES, Split, SyntheticDigits, generate


def test_samples_look_like_mnist_samples() -> None:
    digits = SyntheticDigits("train", size=1000)
    sample = digits[7]
    assert set(sample) == {"x", "y"}
    assert sample["x"].shape == (1, 28, 28)
    assert sample["x"].dtype == torch.float32
    assert sample["y"].shape == ()
    assert sample["y"].dtype == torch.long
    assert digits.images.shape == (1000, 1, 28, 28)
    assert digits.labels.shape == (1000,)
    assert digits.images.min().item() >= 0.0
    assert digits.images.max().item() == 1.0
    # MNIST's mean pixel is 0.13: strokes cover a similar share of the image.
    assert 0.08 < digits.images.mean().item() < 0.2


def test_the_background_is_black_like_mnists() -> None:
    images = SyntheticDigits("train", size=1000).images
    assert (images == 0).float().mean().item() > 0.6
    ink = images.mean(dim=(0, 1))  # (28, 28)
    assert ink[2:26, 2:26].sum() > 0.99 * ink.sum()  # the two-pixel frame stays empty


def test_default_sizes_are_mnists_splits() -> None:
    assert DEFAULT_SIZES == {"train": 50_000, "valid": 10_000, "test": 10_000}
    assert len(SyntheticDigits("test")) == 10_000


def test_labels_are_balanced_over_ten_classes() -> None:
    labels = SyntheticDigits("train", size=1000).labels
    assert torch.bincount(labels, minlength=10).tolist() == [100] * 10


def test_same_split_and_seed_render_the_same_images() -> None:
    first = SyntheticDigits("train", size=200, seed=3)
    images, labels = first.images.clone(), first.labels.clone()
    generate.cache_clear()  # render again rather than read the cache
    again = SyntheticDigits("train", size=200, seed=3)
    assert again.images is not first.images
    assert torch.equal(again.images, images)
    assert torch.equal(again.labels, labels)


def test_repeated_construction_reuses_the_rendered_tensors() -> None:
    assert SyntheticDigits("valid", size=300).images is SyntheticDigits("valid", size=300).images


@pytest.mark.parametrize(("other_split", "other_seed"), [("valid", 0), ("test", 0), ("train", 1)])
def test_other_splits_and_seeds_are_other_images(other_split: Split, other_seed: int) -> None:
    train = SyntheticDigits("train", size=500, seed=0)
    other = SyntheticDigits(other_split, size=500, seed=other_seed)
    # Not a single image is repeated: each differs from every image of the other set.
    closest = torch.cdist(other.images.flatten(1), train.images.flatten(1)).min()
    assert closest.item() > 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"split": "val"}, "split must be one of train, valid, test, got 'val'"),
        ({"split": "train", "size": 0}, "size must be >= 1, got 0"),
        ({"split": "train", "seed": -1}, "seed must be >= 0, got -1"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticDigits(**kwargs)  # type: ignore[arg-type]


def test_a_linear_classifier_learns_the_digits() -> None:
    """Logistic regression reaches about 95% (MNIST: about 92%), so models can learn here."""
    torch.manual_seed(0)
    train = SyntheticDigits("train", size=5000)
    valid = SyntheticDigits("valid", size=2000)
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-3)
    for _ in range(300):
        batch = torch.randint(0, len(train), (128,))
        loss = nn.functional.cross_entropy(classifier(train.images[batch]), train.labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predictions = classifier(valid.images).argmax(dim=1)  # (2000,)
    accuracy = (predictions == valid.labels).float().mean().item()
    assert accuracy > 0.8
