"""gradbook.diagnose: the monitor names the first non-finite value where it was made, records what
autograd and the optimiser did, stops before a bad update, and leaves no hooks behind."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradbook import diagnose
from gradbook.nets import MLP
from gradbook.train import NonFiniteError


def _net() -> MLP:
    torch.manual_seed(0)
    return MLP.deep(5, 7, 3, 3, activation="relu", init="kaiming")


def _step(net: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, loss_fn=None) -> None:
    y = torch.tensor([0, 1, 2, 0])[: len(x)]
    out = net(x)
    loss = F.cross_entropy(out, y) if loss_fn is None else loss_fn(out, y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def _first(net: nn.Module, x: torch.Tensor, loss_fn=None, steps: int = 1) -> diagnose.Event:
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with diagnose.watch(net, opt) as mon, pytest.raises(NonFiniteError):
        for _ in range(steps):
            _step(net, opt, x, loss_fn)
    assert mon.first is not None
    return mon.first


def test_bad_input_is_blamed_on_the_input() -> None:
    x = torch.randn(4, 5)
    x[2, 3] = float("nan")
    e = _first(_net(), x)
    assert (e.step, e.phase, e.where, e.value, e.blamed) == (1, "input", "input", "nan", "input")


def test_forward_overflow_names_the_layer_that_overflowed() -> None:
    net = _net()
    with torch.no_grad():
        net.layers["hidden2"].linear.weight.fill_(3e38)
    e = _first(net, torch.randn(4, 5).abs() + 1)
    assert e.phase == "forward" and e.where == "layers.hidden2.linear" and e.value == "inf"
    assert e.blamed == "forward: layers.hidden2.linear"


def test_a_loss_that_takes_log_of_zero_is_blamed_on_the_loss() -> None:
    def naive(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(out * 1e4, dim=1)  # some probabilities underflow to exactly 0
        return -(F.one_hot(y, 3) * torch.log(p)).sum(1).mean()

    e = _first(_net(), torch.randn(4, 5) * 10, naive)
    assert e.phase == "loss" and e.blamed == "loss"


class _Sqrt(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sqrt()  # finite at 0, but its derivative 1 / (2 sqrt(x)) is inf there


def test_a_module_whose_backward_overflows_is_named() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), _Sqrt(), nn.Linear(4, 3))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].bias.zero_()
    e = _first(net, torch.randn(4, 5))
    assert (e.phase, e.where) == ("backward", "2")


def test_stop_keeps_the_weights_of_before_the_bad_update() -> None:
    net = _net()
    before = [p.detach().clone() for p in net.parameters()]
    x = torch.randn(4, 5)
    x[0, 0] = float("inf")
    e = _first(net, x)
    assert e.value == "inf"
    for p, b in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, b)


def test_an_update_that_overflows_the_weights_is_a_weight_event() -> None:
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=float("inf"))  # a learning-rate schedule gone wrong
    with diagnose.watch(net, opt) as mon, pytest.raises(NonFiniteError) as err:
        _step(net, opt, torch.randn(4, 5))
    assert (mon.first.step, mon.first.phase) == (1, "weight") and err.value.step == 1


def test_statistics_are_what_sgd_did() -> None:
    net = _net()
    lr = 0.05
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    x = torch.randn(4, 5)
    with diagnose.watch(net, opt, every=2) as mon:
        for _ in range(4):
            before = {n: w.detach().clone() for n, w in net.layer_weights().items()}
            _step(net, opt, x)
            grads = {n: w.grad.norm().item() for n, w in net.layer_weights().items()}
    assert mon.steps == [2, 4] and mon.first is None
    g, r, w = (mon.history(k) for k in ("grad_norm", "update_ratio", "weight_norm"))
    for name, weight in net.layer_weights().items():
        assert g[name][-1] == pytest.approx(grads[name], rel=1e-6)
        assert r[name][-1] == pytest.approx(lr * grads[name] / before[name].norm().item(), rel=1e-4)
        assert w[name][-1] == pytest.approx(weight.detach().norm().item(), rel=1e-6)


def test_no_hooks_are_left_behind_and_healthy_steps_record_no_event() -> None:
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with diagnose.watch(net, opt) as mon:
        _step(net, opt, torch.randn(4, 5))
    assert mon.first is None and mon.steps == [1]
    modules = [net, *net.modules()]
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in modules)
    assert not opt._optimizer_step_pre_hooks and not opt._optimizer_step_post_hooks
