"""gradbook.rnn: the stacked RNN and LSTM compute what separate per-seed torch.nn.RNN / nn.LSTM runs
compute (outputs, gradients, a few Adam steps), the forget-gate bias lands on the forget gate, and
jacobian_norms is the norm of autograd's dh_T/dh_0."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gradbook.rnn import (
    StackedLSTM,
    StackedRNN,
    jacobian_norms,
    scale_to_top_singular_value,
    seed_mse,
)

SEEDS = [0, 1, 2]
N_IN, HIDDEN, N_OUT, BATCH, T = 2, 8, 1, 5, 7


def per_seed_nets(kind: str, dtype: torch.dtype, forget_bias: float = 0.0):
    """What a single run with each seed builds: torch's module and a Linear readout."""
    nets = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        if kind == "rnn":
            cell = nn.RNN(N_IN, HIDDEN, nonlinearity="tanh", batch_first=True).to(dtype)
        else:
            cell = nn.LSTM(N_IN, HIDDEN, batch_first=True).to(dtype)
            with torch.no_grad():
                cell.bias_ih_l0[HIDDEN : 2 * HIDDEN] += forget_bias
        head = nn.Linear(HIDDEN, N_OUT).to(dtype)
        nets.append((cell, head))
    return nets


def run(cell: nn.RNNBase, head: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    out, _ = cell(x)
    return head(out[:, -1])


def stacked(kind: str, dtype: torch.dtype, forget_bias: float = 0.0):
    if kind == "rnn":
        return StackedRNN.from_seeds(N_IN, HIDDEN, N_OUT, SEEDS, dtype=dtype)
    return StackedLSTM.from_seeds(N_IN, HIDDEN, N_OUT, SEEDS, forget_bias=forget_bias, dtype=dtype)


def inputs(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    x = torch.randn(len(SEEDS), BATCH, T, N_IN, generator=g, dtype=dtype)
    y = torch.rand(len(SEEDS), BATCH, generator=g, dtype=dtype)
    return x, y


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_stack_matches_separate_torch_modules(kind: str, dtype: torch.dtype, tol: float) -> None:
    x, y = inputs(dtype)
    model = stacked(kind, dtype, forget_bias=1.0)
    loss = seed_mse(model(x).squeeze(-1), y)
    loss.sum().backward()
    names = ["w_ih", "w_hh", "b_ih", "b_hh", "w_out", "b_out"]
    for s, (cell, head) in enumerate(per_seed_nets(kind, dtype, forget_bias=1.0)):
        single = ((run(cell, head, x[s]).squeeze(-1) - y[s]) ** 2).mean()
        single.backward()
        torch.testing.assert_close(loss[s], single, rtol=tol, atol=tol)
        torch_grads = [
            cell.weight_ih_l0.grad.T, cell.weight_hh_l0.grad.T, cell.bias_ih_l0.grad[None],
            cell.bias_hh_l0.grad[None], head.weight.grad.T, head.bias.grad[None],
        ]  # fmt: skip
        for name, g in zip(names, torch_grads, strict=True):
            torch.testing.assert_close(getattr(model, name).grad[s], g, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_adam_on_the_stack_is_adam_on_each_seed(kind: str) -> None:
    """Adam's update is elementwise, so one Adam over the stacked tensors is one Adam per seed."""
    dtype = torch.float64
    x, y = inputs(dtype)
    model = stacked(kind, dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(5):
        opt.zero_grad()
        seed_mse(model(x).squeeze(-1), y).sum().backward()
        opt.step()
    for s, (cell, head) in enumerate(per_seed_nets(kind, dtype)):
        single_opt = torch.optim.Adam([*cell.parameters(), *head.parameters()], lr=1e-2)
        for _ in range(5):
            single_opt.zero_grad()
            ((run(cell, head, x[s]).squeeze(-1) - y[s]) ** 2).mean().backward()
            single_opt.step()
        torch.testing.assert_close(model.w_hh[s], cell.weight_hh_l0.detach().T)
        torch.testing.assert_close(model.w_out[s], head.weight.detach().T)


def test_shared_inputs_broadcast_over_seeds() -> None:
    x, _ = inputs(torch.float64)
    model = stacked("lstm", torch.float64)
    torch.testing.assert_close(model(x[0]), model(x[0].expand(len(SEEDS), -1, -1, -1)))


def test_forget_bias_opens_the_forget_gate_and_nothing_else() -> None:
    base = stacked("lstm", torch.float64)
    biased = stacked("lstm", torch.float64, forget_bias=3.0)
    diff = biased.b_ih - base.b_ih
    assert torch.all(diff[..., HIDDEN : 2 * HIDDEN] == 3.0)
    diff[..., HIDDEN : 2 * HIDDEN] = 0
    assert torch.all(diff == 0)
    assert torch.equal(biased.b_hh, base.b_hh) and torch.equal(biased.w_hh, base.w_hh)


def test_lstm_cell_states_are_torchs() -> None:
    """states(x, cells=True) is the cell state c_t; its last step is torch's c_n."""
    x, _ = inputs(torch.float64)
    model = stacked("lstm", torch.float64, forget_bias=1.0)
    c = model.states(x, cells=True)
    for s, (cell, _head) in enumerate(per_seed_nets("lstm", torch.float64, forget_bias=1.0)):
        _, (_h_n, c_n) = cell(x[s])
        torch.testing.assert_close(c[s, :, -1], c_n[0].detach())


def test_scale_to_top_singular_value() -> None:
    w = torch.randn(4, 6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    scaled = scale_to_top_singular_value(w, 1.5)
    torch.testing.assert_close(torch.linalg.matrix_norm(scaled, ord=2), torch.full((4,), 1.5,
                               dtype=torch.float64))  # fmt: skip


def test_jacobian_norms_equal_autograd() -> None:
    g = torch.Generator().manual_seed(3)
    n, steps = 6, 9
    w = scale_to_top_singular_value(torch.randn(n, n, generator=g, dtype=torch.float64), 2.0)
    h0 = torch.randn(n, generator=g, dtype=torch.float64)
    drive = torch.randn(steps, n, generator=g, dtype=torch.float64)

    def h_at(t: int):
        def f(h: torch.Tensor) -> torch.Tensor:
            for u in drive[:t]:
                h = torch.tanh(h @ w + u)
            return h

        return f

    norms = jacobian_norms(w, h0, drive)
    for t in (1, 4, steps):
        jac = torch.autograd.functional.jacobian(h_at(t), h0)  # jac[i, j] = dh_t[i] / dh_0[j]
        torch.testing.assert_close(norms[t - 1], torch.linalg.matrix_norm(jac, ord=2))
    batched = jacobian_norms(w.expand(3, n, n), h0.expand(3, n), drive.expand(3, steps, n))
    torch.testing.assert_close(batched, norms.expand(3, steps))
