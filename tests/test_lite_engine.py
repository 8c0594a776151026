"""gradbook.lite's ops against torch autograd in float64: same inputs, same outputs and gradients."""

from __future__ import annotations

import math

import pytest
import torch

from gradbook.lite import Rng, Tensor, activate, batch_norm, cross_entropy, linear, matmul, mse
from gradbook.lite.engine import column_stats

TOL = 1e-10


def close(lite_rows, torch_tensor, tol: float = TOL) -> None:
    """Entrywise |a - b| <= tol * max(1, |b|)."""
    ref = torch_tensor.detach().to(torch.float64)
    got = torch.tensor(lite_rows, dtype=torch.float64).reshape(ref.shape)
    assert torch.allclose(got, ref, rtol=tol, atol=tol), (got - ref).abs().max().item()


def pair(rows, requires_grad: bool = True) -> tuple[Tensor, torch.Tensor]:
    """The same values as a lite Tensor and a float64 torch leaf."""
    return Tensor(rows, requires_grad), torch.tensor(rows, dtype=torch.float64, requires_grad=True)


@pytest.fixture
def rng() -> Rng:
    return Rng(0)


TORCH_ACTS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": torch.nn.functional.leaky_relu,
    "elu": torch.nn.functional.elu,
    "selu": torch.selu,
    "softplus": torch.nn.functional.softplus,
    "gelu": torch.nn.functional.gelu,
}


@pytest.mark.parametrize("name", sorted(TORCH_ACTS))
def test_activation_matches_torch(name: str, rng: Rng) -> None:
    rows = rng.normal(7, 5, std=3.0)
    a, ta = pair(rows)
    out, tout = activate(a, name), TORCH_ACTS[name](ta)
    weights = rng.normal(7, 5)  # a non-uniform upstream gradient
    (out * Tensor(weights)).sum().backward()
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    close(out.data, tout)
    close(a.grad, ta.grad)


def test_activations_with_their_parameters_match_torch(rng: Rng) -> None:
    """Non-default leaky slope and ELU alpha, PReLU's learned slope per column, softplus past 20."""
    rows = rng.normal(6, 4, std=3.0)
    rows[0] = [25.0, -25.0, 0.5, -0.5]  # softplus switches to x above 20
    a, ta = pair(rows)
    slope, tslope = pair([[0.1, -0.2, 0.3, 0.05]])
    out = a.leaky_relu(0.2) + a.elu(0.5) + a.prelu(slope) + a.softplus()
    tf = torch.nn.functional
    tout = tf.leaky_relu(ta, 0.2) + tf.elu(ta, 0.5) + tf.prelu(ta, tslope[0]) + tf.softplus(ta)
    weights = rng.normal(6, 4)
    (out * Tensor(weights)).sum().backward()
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    close(out.data, tout)
    close(a.grad, ta.grad)
    close(slope.grad, tslope.grad)
    with pytest.raises(ValueError, match="prelu"):
        activate(a, "prelu")


def test_sigmoid_and_exp_survive_extreme_inputs() -> None:
    x = Tensor([[-1000.0, 1000.0]])
    assert x.sigmoid().data == [[0.0, 1.0]]
    assert x.exp().data[0][1] == math.inf
    assert Tensor([[0.0, -1.0]]).log().data[0][0] == -math.inf


def test_relu_keeps_nan_as_in_torch() -> None:
    """A NaN must survive a ReLU (torch: relu(nan) = nan, local gradient 1), or a blow-up hides."""
    x = Tensor([[math.nan, -1.0, 2.0]], requires_grad=True)
    y = x.relu()
    y.sum().backward()
    tx = torch.tensor([[math.nan, -1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    ty = tx.relu()
    ty.sum().backward()
    assert math.isnan(y.data[0][0]) and math.isnan(ty[0, 0].item())
    assert y.data[0][1:] == ty[0, 1:].tolist()
    assert x.grad == tx.grad.tolist()


def test_log_backward_at_zero_is_inf_as_in_torch() -> None:
    """log's local gradient 1/x at x = 0 is inf in torch; lite must not raise ZeroDivisionError."""
    x = Tensor([[0.0, 2.0]], requires_grad=True)
    x.log().sum().backward()
    tx = torch.tensor([[0.0, 2.0]], dtype=torch.float64, requires_grad=True)
    tx.log().sum().backward()
    assert x.grad == tx.grad.tolist() == [[math.inf, 0.5]]


@pytest.mark.parametrize("op", ["exp", "log"])
def test_exp_log_match_torch(op: str, rng: Rng) -> None:
    rows = rng.uniform_rows(4, 6, 0.1, 3.0)
    a, ta = pair(rows)
    out, tout = getattr(a, op)(), getattr(ta, op)()
    out.sum().backward()
    tout.sum().backward()
    close(out.data, tout)
    close(a.grad, ta.grad)


def test_add_mul_broadcast_constants_and_reductions(rng: Rng) -> None:
    a, ta = pair(rng.normal(5, 4))
    b, tb = pair(rng.normal(5, 4))
    row, trow = pair(rng.normal(1, 4))
    out = ((a * b + row) * row - a * 0.5 + 2.0 - b).mean() + (3.0 - a).sum() * 0.1
    tout = ((ta * tb + trow) * trow - ta * 0.5 + 2.0 - tb).mean() + (3.0 - ta).sum() * 0.1
    out.backward()
    tout.backward()
    close(out.data, tout)
    for lite, ref in [(a, ta), (b, tb), (row, trow)]:
        close(lite.grad, ref.grad)


def test_division_power_and_sqrt_match_torch(rng: Rng) -> None:
    a, ta = pair(rng.uniform_rows(5, 4, 0.5, 2.0))
    b, tb = pair(rng.uniform_rows(5, 4, -2.0, -0.5))
    row, trow = pair(rng.uniform_rows(1, 4, 0.5, 2.0))
    col, tcol = pair(rng.uniform_rows(5, 1, 0.5, 2.0))
    one, tone = pair([[1.7]])
    out = a / b + b / row + a / col + (a / one) ** 3 + 2.0 / a + a**-1.5 + (a * 3.0).sqrt() + b**2
    tout = (
        ta / tb + tb / trow + ta / tcol + (ta / tone) ** 3 + 2.0 / ta + ta**-1.5
        + (ta * 3.0).sqrt() + tb**2
    )  # fmt: skip
    weights = rng.normal(5, 4)
    (out * Tensor(weights)).sum().backward()
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    close(out.data, tout)
    for lite, ref in [(a, ta), (b, tb), (row, trow), (col, tcol), (one, tone)]:
        close(lite.grad, ref.grad)


def test_column_and_scalar_broadcast_in_add_and_mul(rng: Rng) -> None:
    a, ta = pair(rng.normal(4, 3))
    col, tcol = pair(rng.normal(4, 1))
    one, tone = pair([[0.7]])
    out = (a + col) * one + a * col - one
    tout = (ta + tcol) * tone + ta * tcol - tone
    weights = rng.normal(4, 3)
    (out * Tensor(weights)).sum().backward()
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    close(out.data, tout)
    for lite, ref in [(a, ta), (col, tcol), (one, tone)]:
        close(lite.grad, ref.grad)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_sum_and_mean_over_a_dim_match_torch(dim: int | None, rng: Rng) -> None:
    a, ta = pair(rng.normal(5, 3))
    out = a.sum(dim) * a.mean(dim) * 2.0
    keep = {} if dim is None else {"dim": dim, "keepdim": True}
    tout = ta.sum(**keep) * ta.mean(**keep) * 2.0
    weights = rng.normal(*out.shape)
    (out * Tensor(weights)).sum().backward()
    (tout * torch.tensor(weights, dtype=torch.float64).reshape(tout.shape)).sum().backward()
    close(out.data, tout)
    close(a.grad, ta.grad)


def test_edge_values_follow_torch() -> None:
    """Where Python raises, lite gives torch's inf and nan, so a blow-up shows in the numbers."""
    x = Tensor([[0.0, -4.0, 2.0]])
    tx = torch.tensor(x.data, dtype=torch.float64)
    for lite, ref in [
        (Tensor([[0.0, 1.0, -1.0]]) / Tensor([[0.0, 0.0, 0.0]]), (tx.sign() * -1) / 0.0),
        (x.sqrt(), tx.sqrt()),
        (x**0.5, tx**0.5),
        (x**-1.0, tx**-1.0),
        (Tensor([[-8.0]]) ** 3, torch.tensor([[-512.0]], dtype=torch.float64)),
        (Tensor([[1e200]]) ** 2, torch.tensor([[1e200]], dtype=torch.float64) ** 2),
    ]:
        got = torch.tensor(lite.data, dtype=torch.float64)
        assert torch.equal(got.isnan(), ref.isnan()), (got, ref)
        assert torch.equal(got.isinf(), ref.isinf()), (got, ref)
        # torch's vectorised float64 sqrt and pow round the last bit by CPU: on AVX-512 sqrt(2) is
        # 1.414213562373095, one unit in the last place below Python's (and AVX2's) result
        torch.testing.assert_close(got, ref, rtol=2**-52, atol=0.0, equal_nan=True)


def test_batch_norm_from_primitives_equals_the_fused_op(rng: Rng) -> None:
    """The chapter 04 formula written with sum, /, ** and sqrt: autograd finds the fused op's gradient."""
    rows = rng.normal(9, 4, std=2.0, mean=1.0)
    x, x_fused = Tensor(rows, True), Tensor(rows, True)
    gamma, beta = Tensor(rng.normal(1, 4), True), Tensor(rng.normal(1, 4), True)
    gamma_f, beta_f = Tensor(gamma.data, True), Tensor(beta.data, True)
    eps = 1e-5
    mean = x.sum(0) / len(rows)
    var = ((x - mean) ** 2).mean(0)
    out = (x - mean) / (var + eps).sqrt() * gamma + beta
    fused = batch_norm(x_fused, gamma_f, beta_f, *column_stats(x_fused), eps, True)
    weights = Tensor(rng.normal(9, 4))
    (out * weights).sum().backward()
    (fused * weights).sum().backward()
    for got, want in [(out.data, fused.data), (x.grad, x_fused.grad), (gamma.grad, gamma_f.grad),
                      (beta.grad, beta_f.grad)]:  # fmt: skip
        close(got, torch.tensor(want, dtype=torch.float64))


def test_shared_input_accumulates_gradients() -> None:
    a, ta = pair([[2.0, -3.0]])
    (a * a + a).sum().backward()
    (ta * ta + ta).sum().backward()
    close(a.grad, ta.grad)


def test_matmul_linear_cols_match_torch(rng: Rng) -> None:
    x, tx = pair(rng.normal(6, 5))
    w, tw = pair(rng.normal(3, 5))
    b, tb = pair(rng.normal(1, 3))
    m, tm = pair(rng.normal(3, 4))
    v, tv = pair(rng.normal(5, 6))
    out = matmul(linear(x, w, b).tanh(), m) + matmul(x, v).cols(1, 5)
    tout = torch.nn.functional.linear(tx, tw, tb[0]).tanh() @ tm + (tx @ tv)[:, 1:5]
    weights = rng.normal(6, 4)
    (out * Tensor(weights)).sum().backward()
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    close(out.data, tout)
    for lite, ref in [(x, tx), (w, tw), (b, tb), (m, tm), (v, tv)]:
        close(lite.grad, ref.grad)


def test_linear_without_bias_and_constant_input(rng: Rng) -> None:
    x = Tensor(rng.normal(4, 3))  # a constant input gets no gradient
    w, tw = pair(rng.normal(2, 3))
    out = linear(x, w)
    out.sum().backward()
    tout = torch.tensor(x.data, dtype=torch.float64) @ tw.T
    tout.sum().backward()
    close(out.data, tout)
    close(w.grad, tw.grad)
    assert x.grad is None


def test_cross_entropy_matches_torch(rng: Rng) -> None:
    logits, tlogits = pair(rng.normal(8, 10, std=4.0))
    targets = [rng.randrange(10) for _ in range(8)]
    loss = cross_entropy(logits, targets)
    tloss = torch.nn.functional.cross_entropy(tlogits, torch.tensor(targets))
    (loss * 3.0).backward()
    (tloss * 3.0).backward()
    close(loss.data, tloss)
    close(logits.grad, tlogits.grad)


def test_mse_matches_torch(rng: Rng) -> None:
    pred, tpred = pair(rng.normal(6, 2))
    target = rng.normal(6, 2)
    loss = mse(pred, target)
    tloss = torch.nn.functional.mse_loss(tpred, torch.tensor(target, dtype=torch.float64))
    loss.backward()
    tloss.backward()
    close(loss.data, tloss)
    close(pred.grad, tpred.grad)


@pytest.mark.parametrize("batch_stats", [True, False])
def test_batch_norm_op_matches_torch(batch_stats: bool, rng: Rng) -> None:
    x, tx = pair(rng.normal(9, 4, std=2.0, mean=1.0))
    gamma, tgamma = pair(rng.normal(1, 4))
    beta, tbeta = pair(rng.normal(1, 4))
    if batch_stats:
        mean, var = column_stats(x)
    else:
        mean, var = [0.3, -0.2, 0.0, 1.0], [0.5, 2.0, 1.0, 4.0]
    out = batch_norm(x, gamma, beta, mean, var, 1e-5, batch_stats)
    tout = torch.nn.functional.batch_norm(
        tx,
        None if batch_stats else torch.tensor(mean, dtype=torch.float64),
        None if batch_stats else torch.tensor(var, dtype=torch.float64),
        tgamma[0],
        tbeta[0],
        training=batch_stats,
        eps=1e-5,
    )
    weights = rng.normal(9, 4)
    (out * Tensor(weights)).sum().backward()
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    close(out.data, tout)
    for lite, ref in [(x, tx), (gamma, tgamma), (beta, tbeta)]:
        close(lite.grad, ref.grad)


def test_scalar_chain_gradient_is_the_product_of_weights() -> None:
    """Chapter 01's chain: d out / d in of 30 steps of h <- w h is w^30, as torch says."""
    for w_value in (0.2, 1.0, 5.0):
        h0 = Tensor(1.0, requires_grad=True)
        w = Tensor(w_value, requires_grad=True)
        h = h0
        for _ in range(30):
            h = h * w
        h.backward()
        th0 = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        th = th0
        for _ in range(30):
            th = th * w_value
        th.backward()
        assert math.isclose(h0.grad[0][0], th0.grad.item(), rel_tol=TOL)
        assert math.isclose(w.grad[0][0], 30 * w_value**29, rel_tol=TOL)


def test_backward_handles_deep_graphs_without_recursion() -> None:
    x = Tensor(1.0, requires_grad=True)
    h = x
    for _ in range(5000):
        h = h * 1.0
    h.backward()
    assert x.grad == [[1.0]]


def test_shape_errors_are_explicit() -> None:
    with pytest.raises(ValueError, match="cannot broadcast"):
        Tensor([[1.0, 2.0]]) + Tensor([[1.0], [2.0]])
    with pytest.raises(ValueError, match="cannot broadcast"):
        Tensor([[1.0, 2.0]]) / Tensor([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="dim"):
        Tensor([[1.0]]).sum(2)
    with pytest.raises(ValueError, match="1x1"):
        Tensor([[1.0, 2.0]]).backward()
    with pytest.raises(ValueError, match="unknown activation"):
        activate(Tensor(1.0), "swish")
