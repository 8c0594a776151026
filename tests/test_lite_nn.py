"""gradbook.lite's layers, optimisers and clipping against torch (float64), weights copied across."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gradbook.lite import (
    MLP,
    SGD,
    Adam,
    BatchNorm,
    LSTMCell,
    Rng,
    RNNCell,
    Tensor,
    clip_grad_norm,
    clip_grad_value,
    cross_entropy,
    init,
    mse,
    probes,
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


def copy_linear(lite, ref: nn.Linear) -> None:
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(lite.weight.data))
        ref.bias.copy_(torch.tensor(lite.bias.data[0]))


TORCH_ACT = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}


def torch_twin(mlp: MLP) -> nn.ModuleList:
    """Torch layers with mlp's weights: [linear, (bn), act] per hidden layer, then the output layer."""
    blocks = []
    for i, layer in enumerate(mlp.layers):
        lin = nn.Linear(*reversed(layer.weight.shape))
        copy_linear(layer, lin)
        parts = [lin]
        if i < len(mlp.layers) - 1:
            if mlp.norms:
                parts.append(nn.BatchNorm1d(layer.weight.shape[0]))
            parts.append(TORCH_ACT[mlp.activation]())
        blocks.append(nn.Sequential(*parts))
    return nn.ModuleList(blocks)


def torch_forward(blocks: nn.ModuleList, x: torch.Tensor, residual: bool) -> torch.Tensor:
    for block in blocks[:-1]:
        h = block(x)
        x = x + h if residual and h.shape == x.shape else h
    return blocks[-1](x)


@pytest.mark.parametrize(
    ("activation", "batch_norm", "residual"),
    [
        ("sigmoid", False, False),
        ("tanh", False, False),
        ("relu", True, False),
        ("leaky_relu", False, True),
        ("elu", True, True),
    ],
)
def test_mlp_training_steps_match_torch(activation: str, batch_norm: bool, residual: bool) -> None:
    rng = Rng(1)
    mlp = MLP([5, 6, 6, 6, 3], rng, activation, "xavier", batch_norm=batch_norm, residual=residual)
    blocks = torch_twin(mlp)
    opt = SGD(mlp.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    tparams = [p for b in blocks for m in b if isinstance(m, nn.Linear) for p in m.parameters()]
    tparams += [
        p for b in blocks for m in b if isinstance(m, nn.BatchNorm1d) for p in m.parameters()
    ]
    topt = torch.optim.SGD(tparams, lr=0.1, momentum=0.9, weight_decay=1e-3)
    for _ in range(3):
        x_rows = rng.normal(8, 5)
        y = [rng.randrange(3) for _ in range(8)]
        opt.zero_grad()
        topt.zero_grad()
        logits = mlp(Tensor(x_rows))
        tlogits = torch_forward(blocks, torch.tensor(x_rows), residual)
        loss = cross_entropy(logits, y)
        tloss = nn.functional.cross_entropy(tlogits, torch.tensor(y))
        loss.backward()
        tloss.backward()
        close(loss.data, tloss)
        for p, tp in zip(mlp.parameters(), tparams, strict=True):
            close(p.grad, tp.grad)
        opt.step()
        topt.step()
        for p, tp in zip(mlp.parameters(), tparams, strict=True):
            close(p.data, tp)
    # evaluation mode: batch norm switches to its running statistics
    mlp.eval()
    blocks.eval()
    x_rows = rng.normal(4, 5)
    close(mlp(Tensor(x_rows)).data, torch_forward(blocks, torch.tensor(x_rows), residual))


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


def test_preactivation_gradient_norms_match_torch() -> None:
    """The chapter 02 probe: ||dLoss/dz|| per hidden layer, loss = sum of outputs."""
    rng = Rng(3)
    mlp = MLP([8] + [8] * 4 + [2], rng, "sigmoid", "lecun")
    blocks = torch_twin(mlp)
    x_rows = rng.normal(16, 8)
    mlp(Tensor(x_rows)).sum().backward()
    zs, h = [], torch.tensor(x_rows)
    for block in blocks[:-1]:
        z = block[0](h)
        z.retain_grad()
        zs.append(z)
        h = block[1](z)
    blocks[-1](h).sum().backward()
    lite = probes.preact_grad_norms(mlp)
    ref = [z.grad.norm().item() for z in zs]
    assert lite == pytest.approx(ref, rel=TOL)
    assert probes.weight_grad_norms(mlp) == pytest.approx(
        [b[0].weight.grad.norm().item() for b in blocks], rel=TOL
    )


def test_rnn_over_a_sequence_matches_torch() -> None:
    rng = Rng(4)
    cell = RNNCell(2, 5, rng)
    tcell = nn.RNNCell(2, 5)
    with torch.no_grad():
        tcell.weight_ih.copy_(torch.tensor(cell.ih.weight.data))
        tcell.weight_hh.copy_(torch.tensor(cell.hh.weight.data))
        tcell.bias_ih.copy_(torch.tensor(cell.ih.bias.data[0]))
        tcell.bias_hh.copy_(torch.tensor(cell.hh.bias.data[0]))
    xs, target = adding_problem(3, 12, rng)
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
    xs, target = adding_problem(3, 10, rng)
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


@pytest.mark.parametrize(
    ("scheme", "torch_init"),
    [
        ("naive", lambda w: nn.init.normal_(w, 0.0, 0.01)),
        ("lecun", lambda w: nn.init.normal_(w, 0.0, w.shape[1] ** -0.5)),
        ("pytorch_default", lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5))),
        ("xavier", nn.init.xavier_normal_),
        ("xavier_uniform", nn.init.xavier_uniform_),
        ("kaiming", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
        ("kaiming_uniform", lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu")),
        ("orthogonal", nn.init.orthogonal_),
    ],
)
def test_init_statistics_match_torch(scheme: str, torch_init) -> None:
    fan_in, fan_out = 120, 80
    rows = init.weights(scheme, fan_in, fan_out, Rng(9))
    ref = torch_init(torch.empty(fan_out, fan_in))
    assert (len(rows), len(rows[0])) == (fan_out, fan_in)
    assert _std(rows) == pytest.approx(ref.std(unbiased=False).item(), rel=0.05)
    if "uniform" in scheme or scheme == "pytorch_default":
        bound = ref.abs().max().item()
        assert max(abs(v) for r in rows for v in r) <= bound * 1.01


@pytest.mark.parametrize("shape", [(6, 10), (10, 6)])
def test_orthogonal_init_is_orthogonal(shape: tuple[int, int]) -> None:
    rows, cols = shape
    w = torch.tensor(init.weights("orthogonal", cols, rows, Rng(10), gain=2.0))
    gram = w @ w.T if rows <= cols else w.T @ w
    assert torch.allclose(gram, 4.0 * torch.eye(min(shape)), atol=TOL)


def test_pytorch_default_bias_and_unknown_scheme() -> None:
    b = init.bias("pytorch_default", 25, 1000, Rng(11))
    assert max(abs(v) for v in b) <= 0.2 and _std([b]) > 0.1
    assert init.bias("kaiming", 25, 4, Rng(11)) == [0.0] * 4
    with pytest.raises(ValueError, match="unknown init scheme"):
        init.weights("glorot", 2, 2, Rng(0))
