"""Weight initialisation schemes, by name.

Weights use torch's layout, (fan_out, fan_in): one row per output unit.

| name | weights | reason |
| --- | --- | --- |
| `naive` | N(0, 0.01^2) | small random numbers, the pre-2010 habit; signals shrink layer by layer |
| `lecun` | N(0, 1/fan_in) | keeps the forward variance for linear units |
| `pytorch_default` / `standard` | U(-1/sqrt(fan_in), 1/sqrt(fan_in)) | torch's `nn.Linear` (variance 1/(3 fan_in)) |
| `xavier` / `xavier_normal` | N(0, 2/(fan_in + fan_out)) | Glorot & Bengio: forward and backward variance kept |
| `xavier_uniform` | U(-a, a), a = sqrt(6/(fan_in + fan_out)) | the same variance, uniform |
| `he` / `kaiming` / `kaiming_normal` | N(0, 2/fan_in) | He et al.: ReLU halves the variance, so double it |
| `kaiming_uniform` / `he_uniform` | U(-a, a), a = sqrt(6/fan_in) | the same variance, uniform |
| `orthogonal` | a random orthogonal matrix | every singular value 1 (dynamical isometry) |

Biases are zero (Glorot's `standard` included), except for `pytorch_default`, which draws them
like torch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

import math

from .engine import Rows
from .rng import Rng


def _orthogonal(rows: int, cols: int, rng: Rng) -> Rows:
    """Gram-Schmidt on a Gaussian matrix, the smaller side orthonormal (like torch's init)."""
    tall = rows >= cols
    n, k = (rows, cols) if tall else (cols, rows)  # k orthonormal vectors of length n
    basis: list[list[float]] = []
    while len(basis) < k:
        v = [rng.gauss(0.0, 1.0) for _ in range(n)]
        for _ in range(2):  # twice is enough for full precision ("twice is enough", Kahan)
            for q in basis:
                c = math.fsum(a * b for a, b in zip(v, q))
                v = [a - c * b for a, b in zip(v, q)]
        norm = math.sqrt(math.fsum(a * a for a in v))
        if norm > 1e-8:
            basis.append([a / norm for a in v])
    columns = basis  # k vectors of length n
    if tall:  # rows x cols with orthonormal columns
        return [[columns[j][i] for j in range(cols)] for i in range(rows)]
    return [list(q) for q in columns]  # rows x cols with orthonormal rows


def weights(scheme: str, fan_in: int, fan_out: int, rng: Rng, gain: float = 1.0) -> Rows:
    """A (fan_out, fan_in) weight matrix drawn by `scheme`, times `gain`."""
    if scheme == "naive":
        rows = rng.normal(fan_out, fan_in, 0.01)
    elif scheme == "lecun":
        rows = rng.normal(fan_out, fan_in, math.sqrt(1.0 / fan_in))
    elif scheme in ("pytorch_default", "standard"):
        a = 1.0 / math.sqrt(fan_in)
        rows = rng.uniform_rows(fan_out, fan_in, -a, a)
    elif scheme in ("xavier", "xavier_normal"):
        rows = rng.normal(fan_out, fan_in, math.sqrt(2.0 / (fan_in + fan_out)))
    elif scheme == "xavier_uniform":
        a = math.sqrt(6.0 / (fan_in + fan_out))
        rows = rng.uniform_rows(fan_out, fan_in, -a, a)
    elif scheme in ("he", "kaiming", "kaiming_normal"):
        rows = rng.normal(fan_out, fan_in, math.sqrt(2.0 / fan_in))
    elif scheme in ("he_uniform", "kaiming_uniform"):
        a = math.sqrt(6.0 / fan_in)
        rows = rng.uniform_rows(fan_out, fan_in, -a, a)
    elif scheme == "orthogonal":
        rows = _orthogonal(fan_out, fan_in, rng)
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; choose from {SCHEMES}")
    return rows if gain == 1.0 else [[v * gain for v in r] for r in rows]


def bias(scheme: str, fan_in: int, fan_out: int, rng: Rng) -> list[float]:
    """A bias row of length fan_out: torch's uniform draw for `pytorch_default`, zeros otherwise."""
    if scheme == "pytorch_default":
        a = 1.0 / math.sqrt(fan_in)
        return [rng.uniform(-a, a) for _ in range(fan_out)]
    return [0.0] * fan_out


SCHEMES = (
    "naive",
    "lecun",
    "pytorch_default",
    "standard",
    "xavier",
    "xavier_normal",
    "xavier_uniform",
    "he",
    "kaiming",
    "kaiming_normal",
    "he_uniform",
    "kaiming_uniform",
    "orthogonal",
)
