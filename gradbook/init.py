"""Weight initialisation schemes, by name, written as the formulas the book derives.

Each scheme fills one weight matrix of shape (fan_out, fan_in) and its bias in place. We write the
distributions out (rather than call torch.nn.init) so that the variance each scheme aims for is
visible in the code:

| name              | weight distribution                         | bias                |
| ----------------- | ------------------------------------------- | ------------------- |
| naive             | N(0, std^2), std = 0.01 by default          | 0                   |
| standard          | U(-1/sqrt(fan_in), 1/sqrt(fan_in))          | 0                   |
| pytorch_default   | U(-1/sqrt(fan_in), 1/sqrt(fan_in))          | U(same bound)       |
| lecun             | N(0, 1/fan_in)                              | 0                   |
| xavier (_normal)  | N(0, 2/(fan_in + fan_out))                  | 0                   |
| xavier_uniform    | U(-a, a), a = sqrt(6/(fan_in + fan_out))    | 0                   |
| kaiming / he      | N(0, 2/fan_in) (ReLU gain)                  | 0                   |
| kaiming_uniform   | U(-a, a), a = sqrt(6/fan_in)                | 0                   |
| orthogonal        | gain * a random (semi-)orthogonal matrix    | 0                   |
| constant          | every weight = value (0.5 by default)       | 0                   |

"standard" is Glorot & Bengio's name for the heuristic they compare against; PyTorch's nn.Linear
draws its weights from the same distribution (kaiming_uniform with a = sqrt(5)), and its biases too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

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


def _fans(weight: torch.Tensor) -> tuple[int, int]:
    """fan_in and fan_out of a (fan_out, fan_in, *kernel) weight."""
    if weight.dim() < 2:
        raise ValueError("fan_in and fan_out need a weight with at least 2 dimensions")
    receptive = weight[0, 0].numel()
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def _zero(bias: torch.Tensor | None) -> None:
    if bias is not None:
        bias.zero_()


def naive(weight: torch.Tensor, bias: torch.Tensor | None, std: float = 0.01) -> None:
    weight.normal_(0.0, std)
    _zero(bias)


def standard(weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    bound = 1.0 / math.sqrt(_fans(weight)[0])
    weight.uniform_(-bound, bound)
    _zero(bias)


def pytorch_default(weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    bound = 1.0 / math.sqrt(_fans(weight)[0])
    weight.uniform_(-bound, bound)
    if bias is not None:
        bias.uniform_(-bound, bound)


def lecun(weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    weight.normal_(0.0, 1.0 / math.sqrt(_fans(weight)[0]))
    _zero(bias)


def xavier_normal(weight: torch.Tensor, bias: torch.Tensor | None, gain: float = 1.0) -> None:
    fan_in, fan_out = _fans(weight)
    weight.normal_(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))
    _zero(bias)


def xavier_uniform(weight: torch.Tensor, bias: torch.Tensor | None, gain: float = 1.0) -> None:
    fan_in, fan_out = _fans(weight)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    weight.uniform_(-bound, bound)
    _zero(bias)


def kaiming_normal(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    nonlinearity: str = "relu",
    negative_slope: float = 0.01,
) -> None:
    std = gain(nonlinearity, negative_slope) / math.sqrt(_fans(weight)[0])
    weight.normal_(0.0, std)
    _zero(bias)


def kaiming_uniform(
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    nonlinearity: str = "relu",
    negative_slope: float = 0.01,
) -> None:
    bound = gain(nonlinearity, negative_slope) * math.sqrt(3.0 / _fans(weight)[0])
    weight.uniform_(-bound, bound)
    _zero(bias)


def orthogonal(weight: torch.Tensor, bias: torch.Tensor | None, gain: float = 1.0) -> None:
    """QR of a Gaussian matrix; the sign fix makes the result uniform over orthogonal matrices."""
    rows, cols = weight.shape[0], weight[0].numel()
    a = torch.randn(max(rows, cols), min(rows, cols), dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    if rows < cols:
        q = q.T
    weight.copy_((gain * q).reshape(weight.shape))
    _zero(bias)


def constant(weight: torch.Tensor, bias: torch.Tensor | None, value: float = 0.5) -> None:
    weight.fill_(value)
    _zero(bias)


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


def init_weight(weight: torch.Tensor, bias: torch.Tensor | None, name: str, **kwargs) -> None:
    """Fill one weight (and bias) in place with the scheme called `name`."""
    try:
        fn = INITS[name]
    except KeyError:
        raise ValueError(f"unknown init {name!r}; known: {', '.join(sorted(INITS))}") from None
    with torch.no_grad():
        fn(weight, bias, **kwargs)


def apply_init(
    model: nn.Module,
    name: str,
    layer_types: Iterable[type[nn.Module]] = (nn.Linear,),
    **kwargs,
) -> nn.Module:
    """Re-initialise every layer of the given types in `model` (nn.Linear by default); returns model.

    Batch-norm layers keep their own init (scale 1, shift 0). Extra keyword arguments go to the
    scheme, e.g. `apply_init(net, "naive", std=0.1)` or `apply_init(net, "kaiming",
    nonlinearity="leaky_relu")`.
    """
    types = tuple(layer_types)
    for module in model.modules():
        if isinstance(module, types):
            init_weight(module.weight, getattr(module, "bias", None), name, **kwargs)
    return model
