"""Optimisers (SGD, Adam) and gradient clipping (by global norm, by value), as torch does them.

All of them build new rows rather than editing in place (see the rules in `engine`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .engine import Rows, Tensor


def _zeros_like(rows: Rows) -> Rows:
    return [[0.0] * len(r) for r in rows]


class SGD:
    """p -= lr * (g + weight_decay * p), with optional (heavy-ball) momentum like torch.optim.SGD."""

    def __init__(
        self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        self.params = list(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.velocity: dict[int, Rows] = {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        lr, mom, wd = self.lr, self.momentum, self.weight_decay
        for p in self.params:
            if p.grad is None:
                continue
            g = p.grad
            if wd:
                g = [[gv + wd * w for gv, w in zip(rg, rw)] for rg, rw in zip(g, p.data)]
            if mom:
                v = self.velocity.get(id(p))
                g = (
                    g
                    if v is None
                    else [[mom * a + b for a, b in zip(rv, rg)] for rv, rg in zip(v, g)]
                )
                self.velocity[id(p)] = g
            p.data = [[w - lr * gv for w, gv in zip(rw, rg)] for rw, rg in zip(p.data, g)]


class Adam:
    """Adam (Kingma & Ba 2015) with torch's defaults and bias correction."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.t = 0
        self.m = [_zeros_like(p.data) for p in self.params]
        self.v = [_zeros_like(p.data) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1.0 - b1**self.t)
        root_c2 = math.sqrt(1.0 - b2**self.t)
        eps = self.eps
        for k, p in enumerate(self.params):
            if p.grad is None:
                continue
            m = [
                [b1 * a + (1 - b1) * g for a, g in zip(ra, rg)] for ra, rg in zip(self.m[k], p.grad)
            ]
            v = [
                [b2 * a + (1 - b2) * g * g for a, g in zip(ra, rg)]
                for ra, rg in zip(self.v[k], p.grad)
            ]
            self.m[k], self.v[k] = m, v
            p.data = [
                [w - step_size * a / (math.sqrt(b) / root_c2 + eps) for w, a, b in zip(rw, ra, rb)]
                for rw, ra, rb in zip(p.data, m, v)
            ]


def grad_norm(params: Sequence[Tensor]) -> float:
    """The global L2 norm of all gradients together (missing gradients count as zero)."""
    return math.sqrt(math.fsum(g * g for p in params if p.grad for r in p.grad for g in r))


def clip_grad_norm(params: Sequence[Tensor], max_norm: float) -> float:
    """Scale all gradients by one factor so their global norm is at most max_norm.

    Keeps the direction of the step. Returns the norm before clipping, like
    torch.nn.utils.clip_grad_norm_ (which also adds 1e-6 to the denominator).
    """
    total = grad_norm(params)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            if p.grad is not None:
                p.grad = [[g * coef for g in r] for r in p.grad]
    return total


def clip_grad_value(params: Sequence[Tensor], clip: float) -> None:
    """Clamp every gradient entry to [-clip, clip]. Changes the direction of the step."""
    for p in params:
        if p.grad is not None:
            p.grad = [[min(max(g, -clip), clip) for g in r] for r in p.grad]
