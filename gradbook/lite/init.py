"""Weight initialisation schemes, by name: the twin of `gradbook.init` (same names, same keywords).

Each scheme gives one (fan_out, fan_in) weight and its bias new values drawn from `rng` (new rows:
lite never edits rows in place). Weights use torch's layout, one row per output unit.

| name              | weight distribution                         | bias                |
| ----------------- | ------------------------------------------- | ------------------- |
| naive             | N(0, std^2), std = 0.01 by default          | 0                   |
| standard          | U(-1/sqrt(fan_in), 1/sqrt(fan_in))          | 0                   |
| pytorch_default   | U(-1/sqrt(fan_in), 1/sqrt(fan_in))          | U(same bound)       |
| lecun             | N(0, 1/fan_in)                              | 0                   |
| xavier (_normal)  | N(0, 2/(fan_in + fan_out)) (times gain^2)   | 0                   |
| xavier_uniform    | U(-a, a), a = gain sqrt(6/(fan_in + fan_out)) | 0                 |
| kaiming / he      | N(0, gain^2/fan_in), gain(nonlinearity)     | 0                   |
| kaiming_uniform   | U(-a, a), a = gain sqrt(3/fan_in)           | 0                   |
| orthogonal        | gain * a random (semi-)orthogonal matrix    | 0                   |
| constant          | every weight = value (0.5 by default)       | 0                   |

The random numbers differ from torch's (another generator), the distributions are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from .engine import Rows, Tensor
from .rng import Rng

InitFn = Callable[..., None]


def gain(nonlinearity: str = "linear", negative_slope: float = 0.01) -> float:
    """The factor that keeps the second moment of activations constant through the nonlinearity.

    ReLU zeroes half of a symmetric input, halving the second moment, hence sqrt(2). A leaky ReLU
    with slope a keeps (1 + a^2)/2 of it. tanh's 5/3 is PyTorch's empirical choice.
    """
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + negative_slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"no gain known for nonlinearity {nonlinearity!r}")


def _fans(weight: Tensor) -> tuple[int, int]:
    fan_out, fan_in = weight.shape
    return fan_in, fan_out


def _set(
    weight: Tensor, rows: Rows, bias: Tensor | None, bias_row: list[float] | None = None
) -> None:
    weight.data = rows
    if bias is not None:
        bias.data = [bias_row if bias_row is not None else [0.0] * len(rows)]


def naive(weight: Tensor, bias: Tensor | None, rng: Rng, std: float = 0.01) -> None:
    fan_in, fan_out = _fans(weight)
    _set(weight, rng.normal(fan_out, fan_in, std), bias)


def standard(weight: Tensor, bias: Tensor | None, rng: Rng) -> None:
    fan_in, fan_out = _fans(weight)
    a = 1.0 / math.sqrt(fan_in)
    _set(weight, rng.uniform_rows(fan_out, fan_in, -a, a), bias)


def pytorch_default(weight: Tensor, bias: Tensor | None, rng: Rng) -> None:
    fan_in, fan_out = _fans(weight)
    a = 1.0 / math.sqrt(fan_in)
    rows = rng.uniform_rows(fan_out, fan_in, -a, a)
    _set(weight, rows, bias, None if bias is None else [rng.uniform(-a, a) for _ in range(fan_out)])


def lecun(weight: Tensor, bias: Tensor | None, rng: Rng) -> None:
    fan_in, fan_out = _fans(weight)
    _set(weight, rng.normal(fan_out, fan_in, 1.0 / math.sqrt(fan_in)), bias)


def xavier_normal(weight: Tensor, bias: Tensor | None, rng: Rng, gain: float = 1.0) -> None:
    fan_in, fan_out = _fans(weight)
    _set(weight, rng.normal(fan_out, fan_in, gain * math.sqrt(2.0 / (fan_in + fan_out))), bias)


def xavier_uniform(weight: Tensor, bias: Tensor | None, rng: Rng, gain: float = 1.0) -> None:
    fan_in, fan_out = _fans(weight)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    _set(weight, rng.uniform_rows(fan_out, fan_in, -a, a), bias)


def kaiming_normal(
    weight: Tensor,
    bias: Tensor | None,
    rng: Rng,
    nonlinearity: str = "relu",
    negative_slope: float = 0.01,
) -> None:
    fan_in, fan_out = _fans(weight)
    std = gain(nonlinearity, negative_slope) / math.sqrt(fan_in)
    _set(weight, rng.normal(fan_out, fan_in, std), bias)


def kaiming_uniform(
    weight: Tensor,
    bias: Tensor | None,
    rng: Rng,
    nonlinearity: str = "relu",
    negative_slope: float = 0.01,
) -> None:
    fan_in, fan_out = _fans(weight)
    a = gain(nonlinearity, negative_slope) * math.sqrt(3.0 / fan_in)
    _set(weight, rng.uniform_rows(fan_out, fan_in, -a, a), bias)


def orthogonal(weight: Tensor, bias: Tensor | None, rng: Rng, gain: float = 1.0) -> None:
    """Gram-Schmidt on a Gaussian matrix, the smaller side orthonormal (like torch's QR)."""
    rows, cols = weight.shape
    n, k = (rows, cols) if rows >= cols else (cols, rows)  # k orthonormal vectors of length n
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
    if rows >= cols:  # rows x cols with orthonormal columns
        _set(weight, [[gain * basis[j][i] for j in range(cols)] for i in range(rows)], bias)
    else:  # rows x cols with orthonormal rows
        _set(weight, [[gain * a for a in q] for q in basis], bias)


def constant(weight: Tensor, bias: Tensor | None, rng: Rng, value: float = 0.5) -> None:
    fan_in, fan_out = _fans(weight)
    _set(weight, [[float(value)] * fan_in for _ in range(fan_out)], bias)


INITS: dict[str, InitFn] = {
    "naive": naive,
    "standard": standard,
    "pytorch_default": pytorch_default,
    "lecun": lecun,
    "xavier": xavier_normal,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "kaiming": kaiming_normal,
    "he": kaiming_normal,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "orthogonal": orthogonal,
    "constant": constant,
}


def init_weight(weight: Tensor, bias: Tensor | None, name: str, *, rng: Rng, **kwargs) -> None:
    """Give one weight (and bias) new values from the scheme called `name`."""
    try:
        fn = INITS[name]
    except KeyError:
        raise ValueError(f"unknown init {name!r}; known: {', '.join(sorted(INITS))}") from None
    fn(weight, bias, rng, **kwargs)


def apply_init(
    model, name: str, layer_types: Iterable[type] | None = None, *, rng: Rng, **kwargs
):  # -> the model
    """Re-initialise every layer of the given types in `model` (lite's Linear by default).

    Batch-norm layers keep their own init (scale 1, shift 0). Extra keyword arguments go to the
    scheme, e.g. `apply_init(net, "naive", rng=rng, std=0.1)`.
    """
    from .nn import Linear  # nn builds its layers with this module

    types = tuple(layer_types) if layer_types is not None else (Linear,)
    for module in model.modules():
        if isinstance(module, types):
            init_weight(module.weight, module.bias, name, rng=rng, **kwargs)
    return model
