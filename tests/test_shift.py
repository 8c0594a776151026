"""gradbook.shift: importance weights from a domain classifier, black-box shift estimation."""

from __future__ import annotations

import math

import torch

from gradbook import shift


def _gaussians(n: int, mean: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, n, 2, generator=g, dtype=torch.float64) + mean


def test_domain_weights_recover_the_density_ratio_of_two_gaussians() -> None:
    source, target = _gaussians(4000, 0.0, 0), _gaussians(4000, 0.7, 1)
    w = shift.domain_weights(source, target, steps=1500, lr=0.5, features=shift.quadratic_features)
    assert w.shape == (2, 4000)
    assert torch.allclose(w.mean(dim=1), torch.ones(2, dtype=torch.float64))
    # N(0.7, I) over N(0, I): log ratio = 0.7 (x1 + x2) + const
    true = shift.normalized(torch.exp(0.7 * source.sum(dim=-1)))
    for a, b in zip(w.log(), true.log(), strict=True):
        assert float(torch.corrcoef(torch.stack([a, b]))[0, 1]) > 0.99


def test_weighted_logistic_scales_each_examples_gradient() -> None:
    x = torch.tensor([[[0.0], [1.0], [2.0], [3.0], [1.5]]], dtype=torch.float64)
    y = torch.tensor([[0.0, 0.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
    flipped = y.clone()
    flipped[0, 4] = 0.0
    w = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0]], dtype=torch.float64)
    # an example of weight 0 sends no gradient: its label cannot matter
    a = shift.fit_logistic(x, y, w, steps=50, lr=0.1)
    b = shift.fit_logistic(x, flipped, w, steps=50, lr=0.1)
    assert torch.equal(a.theta, b.theta) and torch.equal(a.bias, b.bias)
    # weight 1 everywhere is the unweighted fit
    c = shift.fit_logistic(x, y, torch.ones_like(y), steps=50, lr=0.1)
    d = shift.fit_logistic(x, y, steps=50, lr=0.1)
    assert torch.equal(c.theta, d.theta)
    assert float(a.accuracy(x[:, :4], y[:, :4])[0]) == 1.0


def test_effective_sample_size() -> None:
    assert math.isclose(float(shift.effective_sample_size(torch.ones(1, 10))[0]), 10.0)
    w = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    assert math.isclose(float(shift.effective_sample_size(w)[0]), 1.0)


def test_bbse_recovers_the_target_prior_exactly_from_exact_statistics() -> None:
    # a classifier with known confusion: P(pred = i | y = j)
    cond = torch.tensor([[0.8, 0.1, 0.2], [0.1, 0.7, 0.1], [0.1, 0.2, 0.7]], dtype=torch.float64)
    p = torch.tensor([1 / 3, 1 / 3, 1 / 3], dtype=torch.float64)
    q = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)
    confusion = cond * p  # joint on the source
    mu = cond @ q  # predicted shares on the target
    w = shift.bbse_weights(confusion, mu)
    assert torch.allclose(w, q / p)
    assert torch.allclose(shift.target_prior(w, p), q)


def test_confusion_and_shares_from_predictions() -> None:
    pred, y = torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 2])
    c = shift.confusion_joint(pred, y, 3)
    assert torch.allclose(c.sum(), torch.tensor(1.0, dtype=torch.float64))
    assert float(c[0, 1]) == 0.25 and float(c[1, 1]) == 0.25
    assert shift.prediction_shares(pred, 3).tolist() == [0.5, 0.25, 0.25]


def test_corrected_posteriors_follow_the_weights() -> None:
    probs = torch.tensor([[0.6, 0.4], [0.5, 0.5]], dtype=torch.float64)
    fixed = shift.correct_posteriors(probs, torch.tensor([0.5, 2.0], dtype=torch.float64))
    assert torch.allclose(fixed.sum(dim=1), torch.ones(2, dtype=torch.float64))
    assert fixed.argmax(dim=1).tolist() == [1, 1]


def test_sampling_with_a_prior_keeps_the_classes_images() -> None:
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    prior = torch.tensor([0.0, 0.25, 0.75], dtype=torch.float64)
    idx = shift.sample_with_prior(labels, prior, 4000, torch.Generator().manual_seed(0))
    drawn = labels[idx]
    assert int((drawn == 0).sum()) == 0
    assert abs(float((drawn == 2).double().mean()) - 0.75) < 0.03
    assert set(idx.tolist()) <= {2, 3, 4, 5}


def test_the_pages_cells_show_both_corrections() -> None:
    """Chapter 09's cells: importance weights beat the source-only line on the shifted target, and
    the confusion-matrix estimate of the prior beats assuming it unchanged."""
    from bench.cells import DOCS, page_cells, run_cells

    first, second = page_cells(DOCS / "en" / "chapters" / "09_distribution_shift.md")
    (bars,) = run_cells([first]).charts
    source_only, reweighted = bars["series"][0]["values"]
    assert reweighted > source_only + 0.15
    (prior,) = run_cells([second]).charts
    q, q_hat, p = (s["values"] for s in prior["series"])
    l1 = lambda a, b: sum(abs(x - y) for x, y in zip(a, b, strict=True))  # noqa: E731
    assert l1(q_hat, q) < 0.5 * l1(p, q)
