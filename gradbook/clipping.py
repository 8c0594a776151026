"""Gradient clipping for models stacked over seeds: one global norm per seed, not one for the stack.

Several seeds trained as one batched model keep their parameters side by side, each tensor shaped
(seeds, ...). `torch.nn.utils.clip_grad_norm_` on such tensors would compute one norm over all seeds
together and scale every seed by the same factor, so one exploding seed would shrink the steps of
the others. The functions here treat axis 0 as the seed: seed s is clipped exactly as
`torch.nn.utils.clip_grad_norm_` / `clip_grad_value_` clip a single model holding only slice s
(tests/test_clipping.py checks it). A threshold is a number, or a (seeds,) tensor that gives each
seed its own (`inf` switches clipping off for that seed), so differently clipped runs can share one
stack.

    norms = clip_grad_norm_(params, max_norm)   # (seeds,) global norms before clipping
    clip_grad_value_(params, clip_value)
    cos = grad_cosine(raw, [p.grad for p in params])   # (seeds,) cosine between two gradients
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

#: torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing
EPS = 1e-6


def _per_seed(value: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A threshold as a tensor that broadcasts over `like` (seeds, ...) seed by seed."""
    t = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if t.dim() == 0:
        return t
    if t.shape != like.shape[:1]:
        raise ValueError(
            f"a per-seed threshold needs shape ({like.shape[0]},), got {tuple(t.shape)}"
        )
    return t.view(-1, *[1] * (like.dim() - 1))


def _grads(params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    return [p.grad for p in params if p.grad is not None]


def seed_norms(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The global L2 norm of each seed's slice of all `tensors` together: (seeds,)."""
    if not tensors:
        raise ValueError("no tensors")
    squares = [t.detach().double().pow(2).flatten(1).sum(dim=1) for t in tensors]
    return torch.stack(squares).sum(dim=0).sqrt().to(tensors[0].dtype)


def grad_norm(params: Iterable[torch.Tensor]) -> torch.Tensor:
    """Each seed's global gradient norm over all `params` (stacked, seed first): (seeds,)."""
    return seed_norms(_grads(params))


@torch.no_grad()
def clip_grad_norm_(params: Iterable[torch.Tensor], max_norm: float | torch.Tensor) -> torch.Tensor:
    """Rescale each seed's gradient so that its global norm is at most `max_norm`; in place.

    Seed by seed what `torch.nn.utils.clip_grad_norm_` does to one model: the factor is
    `min(1, max_norm / (norm + 1e-6))`, the same for every tensor of that seed, so the direction of
    the seed's step is kept. Returns the norms before clipping, (seeds,).
    """
    grads = _grads(params)
    norms = seed_norms(grads)
    coef = torch.clamp(torch.as_tensor(max_norm, dtype=norms.dtype) / (norms + EPS), max=1.0)
    coef = coef.expand_as(norms)
    for g in grads:
        g.mul_(coef.view(-1, *[1] * (g.dim() - 1)))
    return norms


@torch.no_grad()
def clip_grad_value_(params: Iterable[torch.Tensor], clip_value: float | torch.Tensor) -> None:
    """Clamp every gradient entry of seed s into [-clip_value_s, clip_value_s]; in place.

    `torch.nn.utils.clip_grad_value_` per seed. Entries are clamped one by one, so the step's
    direction changes whenever some entries are clamped and others are not.
    """
    for g in _grads(params):
        c = _per_seed(clip_value, g)
        torch.clamp(g, -c, c, out=g)


def grad_cosine(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> torch.Tensor:
    """Cosine between two gradients of each seed, every tensor flattened into one vector: (seeds,).

    `a` and `b` hold matching tensors (seeds, ...); computed in float64.
    """
    if len(a) != len(b) or not a:
        raise ValueError("two equally long, non-empty lists of tensors")
    dot = sum((x.double() * y.double()).flatten(1).sum(dim=1) for x, y in zip(a, b, strict=True))
    return dot / (seed_norms([x.double() for x in a]) * seed_norms([y.double() for y in b]))
