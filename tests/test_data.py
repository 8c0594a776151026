"""gradbook.data: digits split and synthetic sets."""

import torch

from gradbook import data


def test_digits_split_is_stratified_standardised_and_seeded():
    split = data.digits(seed=0)
    assert split.x_train.shape == (1437, 64) and split.x_test.shape == (360, 64)
    assert split.x_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    assert split.n_features == 64 and split.n_classes == 10
    # standardised on the training part: mean 0, std 1 for every non-constant pixel
    assert split.x_train.mean(0).abs().max() < 1e-5
    std = split.x_train.std(0, unbiased=False)
    assert ((std - 1).abs() < 1e-4).sum() + (std == 0).sum() == 64
    # stratified: each class makes up the same share of both parts (within one sample)
    train_share = torch.bincount(split.y_train) / len(split.y_train)
    test_share = torch.bincount(split.y_test) / len(split.y_test)
    assert (train_share - test_share).abs().max() < 1 / len(split.y_test) + 1e-9
    again = data.digits(seed=0)
    assert torch.equal(split.x_test, again.x_test)
    other = data.digits(seed=1)
    assert not torch.equal(split.y_test, other.y_test)


def test_gaussian_batch_and_grid():
    a = data.gaussian_batch(256, 32, seed=3)
    assert a.shape == (256, 32) and torch.equal(a, data.gaussian_batch(256, 32, seed=3))
    assert abs(float(a.std()) - 1) < 0.05
    g = data.grid_1d(256, -2, 2)
    assert g.shape == (256, 1) and float(g[0]) == -2 and float(g[-1]) == 2


def test_adding_problem_targets_and_markers():
    x, y = data.adding_problem(500, 50, seed=0)
    assert x.shape == (500, 50, 2) and y.shape == (500,)
    markers = x[:, :, 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, :25].sum(1) == 1)  # one mark in each half
    marked = (x[:, :, 0] * markers).sum(1)
    assert torch.allclose(y, 0.5 + marked / 4)
    assert float(x[:, :, 0].abs().max()) <= 1
    # the best constant predictor (the mean) scores about 1/24
    assert abs(float(y.var()) - 1 / 24) < 0.01
