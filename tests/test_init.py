"""gradbook.init: each scheme hits the variance its formula promises."""

import math

import pytest
import torch
from torch import nn

from gradbook.init import INITS, apply_init, gain, init_weight

FAN_OUT, FAN_IN = 300, 500


def _weight(name: str, **kw) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    w, b = torch.empty(FAN_OUT, FAN_IN), torch.full((FAN_OUT,), 7.0)
    init_weight(w, b, name, **kw)
    return w, b


@pytest.mark.parametrize(
    ("name", "kwargs", "variance"),
    [
        ("naive", {}, 0.01**2),
        ("naive", {"std": 0.1}, 0.1**2),
        ("standard", {}, 1 / (3 * FAN_IN)),
        ("pytorch_default", {}, 1 / (3 * FAN_IN)),
        ("lecun", {}, 1 / FAN_IN),
        ("xavier", {}, 2 / (FAN_IN + FAN_OUT)),
        ("xavier_uniform", {}, 2 / (FAN_IN + FAN_OUT)),
        ("kaiming", {}, 2 / FAN_IN),
        ("he", {}, 2 / FAN_IN),
        ("kaiming_uniform", {}, 2 / FAN_IN),
        ("kaiming", {"nonlinearity": "leaky_relu", "negative_slope": 0.2}, 2 / 1.04 / FAN_IN),
    ],
)
def test_variance_matches_formula(name, kwargs, variance):
    w, b = _weight(name, **kwargs)
    assert float(w.mean()) == pytest.approx(0, abs=3 * math.sqrt(variance / w.numel()) + 1e-9)
    # 150k samples: the sample variance is within 2% of the true one
    assert float(w.var()) == pytest.approx(variance, rel=0.02)
    if name != "pytorch_default":
        assert torch.all(b == 0)


def test_uniform_bounds():
    w, _ = _weight("xavier_uniform")
    bound = math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.99 * bound
    w, b = _weight("pytorch_default")
    assert float(b.abs().max()) <= 1 / math.sqrt(FAN_IN) and float(b.std()) > 0


def test_pytorch_default_matches_nn_linear_distribution():
    torch.manual_seed(0)
    lin = nn.Linear(FAN_IN, FAN_OUT)
    w, _ = _weight("pytorch_default")
    assert float(lin.weight.detach().var()) == pytest.approx(float(w.var()), rel=0.03)
    assert float(lin.weight.detach().abs().max()) <= 1 / math.sqrt(FAN_IN)


@pytest.mark.parametrize("shape", [(300, 500), (500, 300), (64, 64)])
def test_orthogonal_is_orthogonal(shape):
    w = torch.empty(*shape)
    init_weight(w, None, "orthogonal")
    small = min(shape)
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    assert torch.allclose(gram, torch.eye(small), atol=1e-5)


def test_constant_and_apply_init_on_a_model():
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2), nn.BatchNorm1d(2))
    assert apply_init(model, "constant", value=0.3) is model
    assert torch.all(model[0].weight == 0.3) and torch.all(model[2].bias == 0)
    assert torch.all(model[3].weight == 1)  # batch norm keeps its own init


def test_unknown_names_fail_clearly():
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        init_weight(torch.empty(2, 2), None, "glorot")
    with pytest.raises(ValueError):
        gain("swish")
    assert "xavier" in INITS and gain("relu") == pytest.approx(math.sqrt(2))
