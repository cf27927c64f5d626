"""Synthetic faces: deterministic, face-shaped, and their landmarks are where the features are."""

from __future__ import annotations

import torch

from experiments.celeba.synthetic import DEFAULT_SIZES, SyntheticFaces

SIZE = (64, 52)


def test_same_seed_same_faces_and_splits_differ() -> None:
    a = SyntheticFaces("valid", size=8, seed=3, image_size=SIZE)
    b = SyntheticFaces("valid", size=8, seed=3, image_size=SIZE)
    assert torch.equal(a[5]["x"], b[5]["x"])
    assert torch.equal(a.landmarks, b.landmarks)
    assert not torch.equal(a.landmarks, SyntheticFaces("test", size=8, seed=3).landmarks)
    assert not torch.equal(
        a[5]["x"], SyntheticFaces("valid", size=8, seed=4, image_size=SIZE)[5]["x"]
    )


def test_an_image_does_not_depend_on_the_faces_rendered_with_it() -> None:
    faces = SyntheticFaces("train", size=10, image_size=SIZE)
    alone = faces.images(torch.tensor([7]))[0]
    assert torch.equal(faces.images(torch.tensor([2, 7]))[1], alone)
    # A small split is pre-rendered as uint8: the same picture to within a grey level.
    assert (faces[7]["x"] - alone).abs().max() <= 0.5 / 255 + 1e-6


def test_samples_are_images_in_0_1_with_ten_landmark_coordinates() -> None:
    faces = SyntheticFaces("train", size=4)
    sample = faces[0]
    assert sample["x"].shape == (3, 218, 178)
    assert 0 <= sample["x"].min() <= sample["x"].max() <= 1
    assert sample["y"].shape == (10,)
    assert sample["y"].dtype == torch.float32


def test_default_sizes_are_celebas_and_cheap_to_make() -> None:
    faces = SyntheticFaces("train")
    assert len(faces) == DEFAULT_SIZES["train"] == 162_770
    assert faces.landmarks.shape == (162_770, 10)


def test_landmarks_lie_in_the_image_in_a_face_order() -> None:
    y = SyntheticFaces("train", size=2000, image_size=SIZE).landmarks  # (N, 10)
    xs, ys = y[:, 0::2], y[:, 1::2]  # (N, 5): left eye, right eye, nose, left mouth, right mouth
    assert (xs > 0).all() and (xs < SIZE[1]).all() and (ys > 0).all() and (ys < SIZE[0]).all()
    assert (xs[:, 0] < xs[:, 1]).all() and (xs[:, 3] < xs[:, 4]).all()
    eyes, nose, mouth = ys[:, :2].mean(1), ys[:, 2], ys[:, 3:].mean(1)
    assert (eyes < nose).all() and (nose < mouth).all()
    # Varied positions: the mean landmark is a poor guess, which the VIB test relies on.
    spread = (y - y.mean(0)).norm(dim=1).mean()
    assert spread > 0.1 * SIZE[0]


def test_the_eyes_are_drawn_at_their_landmarks() -> None:
    faces = SyntheticFaces("valid", size=20, seed=1, image_size=(109, 89))
    eye_colour = faces.faces[:, 13 + 6 : 13 + 9]  # (N, 3), dark
    for index in range(20):
        x = faces[index]["x"]
        column, row = faces.landmarks[index, :2].round().long().tolist()
        pixel = x[:, row, column]  # (3,)
        assert (pixel - eye_colour[index]).abs().max() < 0.15
