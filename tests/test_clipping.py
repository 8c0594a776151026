"""gradbook.clipping on seed-stacked gradients equals torch's clipping run on each seed alone."""

from __future__ import annotations

import math

import pytest
import torch

from gradbook import clipping

SEEDS = 4


def stacked_params(scales: list[float]) -> list[torch.Tensor]:
    """Three stacked parameter tensors with gradients; seed s's gradient is scaled by scales[s]."""
    g = torch.Generator().manual_seed(0)
    shapes = [(3, 5), (5,), (2, 2, 2)]
    params = []
    for shape in shapes:
        p = torch.randn(SEEDS, *shape, generator=g, requires_grad=True)
        grad = torch.randn(SEEDS, *shape, generator=g)
        p.grad = grad * torch.tensor(scales).view(-1, *[1] * len(shape))
        params.append(p)
    return params


def seed_slice(params: list[torch.Tensor], s: int) -> list[torch.Tensor]:
    """Seed s alone, as an ordinary model's parameters with their own gradients."""
    out = []
    for p in params:
        q = p.detach()[s].clone().requires_grad_()
        q.grad = p.grad[s].clone()
        out.append(q)
    return out


SCALES = [0.01, 1.0, 30.0, 1e4]


@pytest.mark.parametrize("max_norm", [0.5, 5.0])
def test_clip_by_norm_is_torchs_per_seed(max_norm: float) -> None:
    params = stacked_params(SCALES)
    singles = [seed_slice(params, s) for s in range(SEEDS)]
    norms = clipping.clip_grad_norm_(params, max_norm)
    for s, single in enumerate(singles):
        expected = torch.nn.utils.clip_grad_norm_(single, max_norm)
        assert math.isclose(float(norms[s]), float(expected), rel_tol=1e-6)
        for p, q in zip(params, single, strict=True):
            torch.testing.assert_close(p.grad[s], q.grad, rtol=1e-6, atol=1e-9)


def test_clip_by_norm_uses_each_seeds_own_norm_not_the_stacks() -> None:
    """One huge seed must not shrink the others: the stack's overall norm is not what counts."""
    params = stacked_params(SCALES)
    before = [p.grad.clone() for p in params]
    own = clipping.grad_norm(params)
    clipping.clip_grad_norm_(params, 5.0)
    after = clipping.grad_norm(params)
    for s in range(SEEDS):
        if own[s] <= 5.0:  # small seeds are left exactly as they were
            for p, b in zip(params, before, strict=True):
                assert torch.equal(p.grad[s], b[s])
        else:
            assert math.isclose(float(after[s]), 5.0, rel_tol=1e-5)
    # what torch does to the whole stack at once is different: it shrinks every seed
    whole = [p.detach().clone().requires_grad_() for p in params]
    for w, b in zip(whole, before, strict=True):
        w.grad = b.clone()
    torch.nn.utils.clip_grad_norm_(whole, 5.0)
    assert not torch.equal(whole[0].grad[0], before[0][0])


def test_per_seed_thresholds_and_inf_switch_clipping_off() -> None:
    params = stacked_params([100.0] * SEEDS)
    before = [p.grad.clone() for p in params]
    limits = torch.tensor([math.inf, 1.0, math.inf, 2.0])
    clipping.clip_grad_norm_(params, limits)
    after = clipping.grad_norm(params)
    for s in (0, 2):
        for p, b in zip(params, before, strict=True):
            assert torch.equal(p.grad[s], b[s])
    assert math.isclose(float(after[1]), 1.0, rel_tol=1e-5)
    assert math.isclose(float(after[3]), 2.0, rel_tol=1e-5)


@pytest.mark.parametrize("clip", [0.1, 2.0])
def test_clip_by_value_is_torchs_per_seed(clip: float) -> None:
    params = stacked_params(SCALES)
    singles = [seed_slice(params, s) for s in range(SEEDS)]
    clipping.clip_grad_value_(params, clip)
    for s, single in enumerate(singles):
        torch.nn.utils.clip_grad_value_(single, clip)
        for p, q in zip(params, single, strict=True):
            assert torch.equal(p.grad[s], q.grad)


def test_clip_by_value_per_seed_thresholds() -> None:
    params = stacked_params([10.0] * SEEDS)
    limits = torch.tensor([0.5, math.inf, 1.0, 3.0])
    singles = [seed_slice(params, s) for s in range(SEEDS)]
    clipping.clip_grad_value_(params, limits)
    for s, single in enumerate(singles):
        torch.nn.utils.clip_grad_value_(single, float(limits[s]))
        for p, q in zip(params, single, strict=True):
            assert torch.equal(p.grad[s], q.grad)


def test_cosine_norm_clipping_keeps_the_direction_value_clipping_does_not() -> None:
    params = stacked_params(SCALES)
    raw = [p.grad.clone() for p in params]
    clipping.clip_grad_norm_(params, 1.0)
    cos_norm = clipping.grad_cosine(raw, [p.grad for p in params])
    torch.testing.assert_close(cos_norm, torch.ones(SEEDS, dtype=torch.float64), rtol=0, atol=1e-6)

    params = stacked_params(SCALES)
    clipping.clip_grad_value_(params, 0.5)
    cos_value = clipping.grad_cosine(raw, [p.grad for p in params])
    flat_raw = [torch.cat([g[s].flatten() for g in raw]) for s in range(SEEDS)]
    flat_cut = [torch.cat([p.grad[s].flatten() for p in params]) for s in range(SEEDS)]
    for s in range(SEEDS):
        expected = torch.nn.functional.cosine_similarity(flat_raw[s], flat_cut[s], dim=0)
        assert math.isclose(float(cos_value[s]), float(expected), rel_tol=1e-5)
    assert cos_value[0] > 0.999999  # entries all below 0.5: nothing clamped
    assert cos_value[-1] < 0.99  # most entries clamped: the direction moved


def test_a_threshold_of_the_wrong_shape_is_refused() -> None:
    params = stacked_params(SCALES)
    with pytest.raises(ValueError, match="per-seed threshold"):
        clipping.clip_grad_value_(params, torch.ones(SEEDS + 1))
