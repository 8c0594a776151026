"""Measurements for cells: gradient norms per layer, the numbers the book plots."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .engine import Rows, Tensor
from .nets import MLP


def norm(rows: Rows | None) -> float:
    """Frobenius norm of a list of rows (0.0 for a missing gradient)."""
    return math.sqrt(math.fsum(v * v for r in rows for v in r)) if rows else 0.0


def grad_norms(tensors: Sequence[Tensor]) -> list[float]:
    """||grad|| of each tensor, in order."""
    return [norm(t.grad) for t in tensors]


def weight_grad_norms(mlp: MLP) -> list[float]:
    """||dLoss/dW|| for each linear layer of an MLP, input side first."""
    return [norm(w.grad) for w in mlp.layer_weights().values()]


def preact_grad_norms(mlp: MLP) -> list[float]:
    """||dLoss/dz|| for each hidden layer's pre-activation z, input side first (after backward)."""
    return grad_norms(mlp.pre_activations)
