"""gradbook.lite's layers, optimisers, clipping and inits against torch (float64), weights copied
across. The MLP is checked against its twin, gradbook.nets.MLP, in tests/test_lite_twin.py."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gradbook.lite import (
    Adam,
    BatchNorm,
    LSTMCell,
    Rng,
    RNNCell,
    Tensor,
    clip_grad_norm,
    clip_grad_value,
    init,
    mse,
    run_lstm,
    run_rnn,
)
from gradbook.lite.data import adding_problem

TOL = 1e-10


@pytest.fixture(autouse=True)
def float64_default():
    """Torch modules made in these tests are float64; other test modules keep torch's default."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def close(rows, ref: torch.Tensor, tol: float = TOL) -> None:
    got = torch.tensor(rows, dtype=torch.float64).reshape(ref.shape)
    ref = ref.detach()
    assert torch.allclose(got, ref, rtol=tol, atol=tol), (got - ref).abs().max().item()


def test_batchnorm_running_stats_and_eval_gradients_match_torch() -> None:
    rng = Rng(2)
    bn, tbn = BatchNorm(3, momentum=0.2), nn.BatchNorm1d(3, momentum=0.2)
    for _ in range(4):
        rows = rng.normal(10, 3, std=3.0, mean=2.0)
        bn(Tensor(rows))
        tbn(torch.tensor(rows))
    close([bn.running_mean], tbn.running_mean[None])
    close([bn.running_var], tbn.running_var[None])
    bn.eval()
    tbn.eval()
    x = Tensor(rng.normal(5, 3), requires_grad=True)
    tx = torch.tensor(x.data, requires_grad=True)
    bn(x).sum().backward()
    tbn(tx).sum().backward()
    close(x.grad, tx.grad)
    close(bn.gamma.grad, tbn.weight.grad[None])


def test_rnn_over_a_sequence_matches_torch() -> None:
    rng = Rng(4)
    cell = RNNCell(2, 5, rng)
    tcell = nn.RNNCell(2, 5)
    with torch.no_grad():
        tcell.weight_ih.copy_(torch.tensor(cell.ih.weight.data))
        tcell.weight_hh.copy_(torch.tensor(cell.hh.weight.data))
        tcell.bias_ih.copy_(torch.tensor(cell.ih.bias.data[0]))
        tcell.bias_hh.copy_(torch.tensor(cell.hh.bias.data[0]))
    xs, target = adding_problem(3, 12, rng=rng)
    loss = mse(run_rnn(cell, xs)[-1].cols(0, 1), target)
    h = torch.zeros(3, 5)
    for x in xs:
        h = tcell(torch.tensor(x.data), h)
    tloss = nn.functional.mse_loss(h[:, 0:1], torch.tensor(target.data))
    loss.backward()
    tloss.backward()
    close(loss.data, tloss)
    close(cell.hh.weight.grad, tcell.weight_hh.grad)
    close(cell.ih.weight.grad, tcell.weight_ih.grad)
    close(cell.hh.bias.grad, tcell.bias_hh.grad[None])


def test_lstm_over_a_sequence_matches_torch() -> None:
    rng = Rng(5)
    cell = LSTMCell(2, 4, rng, forget_bias=1.0)
    tcell = nn.LSTMCell(2, 4)
    with torch.no_grad():
        tcell.weight_ih.copy_(torch.tensor(cell.ih.weight.data))
        tcell.weight_hh.copy_(torch.tensor(cell.hh.weight.data))
        tcell.bias_ih.copy_(torch.tensor(cell.ih.bias.data[0]))
        tcell.bias_hh.copy_(torch.tensor(cell.hh.bias.data[0]))
    xs, target = adding_problem(3, 10, rng=rng)
    states = run_lstm(cell, xs)
    loss = mse(states[-1].cols(0, 1), target) + states[3].sum() * 0.1
    h = c = torch.zeros(3, 4)
    touts = []
    for x in xs:
        h, c = tcell(torch.tensor(x.data), (h, c))
        touts.append(h)
    tloss = (
        nn.functional.mse_loss(touts[-1][:, 0:1], torch.tensor(target.data)) + touts[3].sum() * 0.1
    )
    loss.backward()
    tloss.backward()
    close(loss.data, tloss)
    for lite, ref in [
        (cell.ih.weight, tcell.weight_ih),
        (cell.hh.weight, tcell.weight_hh),
        (cell.ih.bias, tcell.bias_ih),
        (cell.hh.bias, tcell.bias_hh),
    ]:
        close(lite.grad, ref.grad if ref.grad.dim() == 2 else ref.grad[None])


def test_lstm_forget_bias_lands_on_the_forget_gate() -> None:
    with_bias, without = LSTMCell(1, 3, Rng(0), 1.0), LSTMCell(1, 3, Rng(0))
    diff = [a - b for a, b in zip(with_bias.ih.bias.data[0], without.ih.bias.data[0], strict=True)]
    assert diff == pytest.approx([0.0] * 3 + [1.0] * 3 + [0.0] * 6)


def _grads(rng: Rng) -> tuple[list[Tensor], list[torch.Tensor]]:
    params = [Tensor(rng.normal(3, 4), True), Tensor(rng.normal(1, 4), True)]
    tparams = [torch.tensor(p.data, requires_grad=True) for p in params]
    for p, tp in zip(params, tparams, strict=True):
        p.grad = rng.normal(*p.shape, std=5.0)
        tp.grad = torch.tensor(p.grad)
    return params, tparams


@pytest.mark.parametrize("max_norm", [1.0, 1e6])
def test_clip_grad_norm_matches_torch(max_norm: float) -> None:
    params, tparams = _grads(Rng(6))
    total = clip_grad_norm(params, max_norm)
    ttotal = nn.utils.clip_grad_norm_(tparams, max_norm)
    assert total == pytest.approx(ttotal.item(), rel=TOL)
    for p, tp in zip(params, tparams, strict=True):
        close(p.grad, tp.grad)


def test_clip_grad_value_matches_torch() -> None:
    params, tparams = _grads(Rng(7))
    clip_grad_value(params, 2.0)
    nn.utils.clip_grad_value_(tparams, 2.0)
    for p, tp in zip(params, tparams, strict=True):
        close(p.grad, tp.grad)


def test_adam_matches_torch() -> None:
    rng = Rng(8)
    params, tparams = _grads(rng)
    opt, topt = Adam(params, lr=0.01), torch.optim.Adam(tparams, lr=0.01)
    for _ in range(5):
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams, strict=True):
            p.grad = rng.normal(*p.shape)
            tp.grad = torch.tensor(p.grad)
    for p, tp in zip(params, tparams, strict=True):
        close(p.data, tp)


def _std(rows) -> float:
    flat = [v for r in rows for v in r]
    mean = sum(flat) / len(flat)
    return math.sqrt(sum((v - mean) ** 2 for v in flat) / len(flat))


def draw(scheme: str, fan_in: int, fan_out: int, rng: Rng, **kwargs) -> tuple[list, list]:
    """The weight rows and bias row a lite init scheme gives a (fan_out, fan_in) layer."""
    w = Tensor([[0.0] * fan_in for _ in range(fan_out)], True)
    b = Tensor([[0.0] * fan_out], True)
    init.init_weight(w, b, scheme, rng=rng, **kwargs)
    return w.data, b.data[0]


@pytest.mark.parametrize(
    ("scheme", "kwargs", "torch_init"),
    [
        ("naive", {}, lambda w: nn.init.normal_(w, 0.0, 0.01)),
        ("naive", {"std": 0.3}, lambda w: nn.init.normal_(w, 0.0, 0.3)),
        ("lecun", {}, lambda w: nn.init.normal_(w, 0.0, w.shape[1] ** -0.5)),
        ("standard", {}, lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5))),
        ("pytorch_default", {}, lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5))),
        ("xavier", {}, nn.init.xavier_normal_),
        ("xavier_normal", {"gain": 2.0}, lambda w: nn.init.xavier_normal_(w, gain=2.0)),
        ("xavier_uniform", {}, nn.init.xavier_uniform_),
        ("kaiming", {}, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
        ("he", {"nonlinearity": "leaky_relu", "negative_slope": 0.5},
         lambda w: nn.init.kaiming_normal_(w, a=0.5, nonlinearity="leaky_relu")),
        ("kaiming_uniform", {}, lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu")),
        ("kaiming_uniform", {"nonlinearity": "tanh"},
         lambda w: nn.init.kaiming_uniform_(w, nonlinearity="tanh")),
        ("orthogonal", {}, nn.init.orthogonal_),
    ],
)  # fmt: skip
def test_init_statistics_match_torch(scheme: str, kwargs: dict, torch_init) -> None:
    fan_in, fan_out = 120, 80
    rows, _ = draw(scheme, fan_in, fan_out, Rng(9), **kwargs)
    ref = torch_init(torch.empty(fan_out, fan_in))
    assert (len(rows), len(rows[0])) == (fan_out, fan_in)
    assert _std(rows) == pytest.approx(ref.std(unbiased=False).item(), rel=0.05)
    if "uniform" in scheme or scheme in ("pytorch_default", "standard"):
        bound = ref.abs().max().item()
        assert max(abs(v) for r in rows for v in r) <= bound * 1.01


@pytest.mark.parametrize("shape", [(6, 10), (10, 6)])
def test_orthogonal_init_is_orthogonal(shape: tuple[int, int]) -> None:
    rows, cols = shape
    w = torch.tensor(draw("orthogonal", cols, rows, Rng(10), gain=2.0)[0])
    gram = w @ w.T if rows <= cols else w.T @ w
    assert torch.allclose(gram, 4.0 * torch.eye(min(shape)), atol=TOL)


def test_biases_constant_init_and_unknown_scheme() -> None:
    _, b = draw("pytorch_default", 25, 1000, Rng(11))
    assert max(abs(v) for v in b) <= 0.2 and _std([b]) > 0.1
    assert draw("kaiming", 25, 4, Rng(11))[1] == [0.0] * 4
    assert draw("constant", 3, 2, Rng(0), value=0.05) == ([[0.05] * 3] * 2, [0.0] * 2)
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        draw("glorot", 2, 2, Rng(0))


def test_apply_init_redraws_every_linear_layer_and_keeps_batch_norm() -> None:
    from gradbook.lite import MLP

    net = MLP([3, 4, 2], batch_norm=True, rng=Rng(0))
    init.apply_init(net, "constant", rng=Rng(0), value=0.5)
    assert all(
        w.data == [[0.5] * len(w.data[0])] * len(w.data) for w in net.layer_weights().values()
    )
    assert net.layers["hidden1"].norm.gamma.data == [[1.0] * 4]
