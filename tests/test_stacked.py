"""gradbook.stacked: each member of a stacked batch-norm / residual net computes what a separate
`gradbook.train.fit` run of its own net computes (losses, weights, running statistics), with a
learning rate per member and a skip factor per member (0 = the plain net of the same layers)."""

from __future__ import annotations

import pytest
import torch

from gradbook import probes
from gradbook.nets import MLP
from gradbook.stacked import StackedNet, fit_stacked, member_loss_and_accuracy, preact_grad_norms
from gradbook.train import evaluate, fit

STEPS, BATCH, LOG_EVERY = 25, 32, 10


def problem() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    x = torch.randn(150, 6, generator=g)
    y = (x[:, 0] - x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()
    return x, y


def sigmoid_bn() -> MLP:
    return MLP.deep(6, 12, 3, 3, activation="sigmoid", batch_norm=True)


def relu_res(residual: bool) -> MLP:
    return MLP.deep(6, 12, 5, 3, activation="relu", init="kaiming", batch_norm=True,
                    residual=residual, bias=False)  # fmt: skip


def single(build, seed: int, lr: float) -> tuple[MLP, list[float]]:
    x, y = problem()
    torch.manual_seed(seed)
    net = build()
    hist = fit(net, x, y, steps=STEPS, lr=lr, batch_size=BATCH, log_every=LOG_EVERY, seed=seed)
    return net, hist.train_loss


def check_member(model: StackedNet, m: int, net: MLP) -> None:
    for i, name in enumerate(model.names):
        layer = net.layers[name]
        torch.testing.assert_close(model.weights[i][m], layer.linear.weight.detach().T,
                                   rtol=1e-4, atol=1e-6)  # fmt: skip
        if name != "output" and model.batch_norm:
            torch.testing.assert_close(model.gammas[i][m, 0], layer.norm.weight.detach(),
                                       rtol=1e-4, atol=1e-6)  # fmt: skip
            torch.testing.assert_close(getattr(model, f"running_var{i}")[m, 0],
                                       layer.norm.running_var, rtol=1e-4, atol=1e-6)  # fmt: skip


def test_batch_norm_members_with_their_own_learning_rates() -> None:
    x, y = problem()
    seeds, lrs = [0, 1, 0, 1], [0.1, 0.1, 2.0, 2.0]
    model = StackedNet.from_seeds(sigmoid_bn, seeds)
    hist = fit_stacked(model, x, y, seeds=seeds, steps=STEPS, lr=lrs, batch_size=BATCH,
                       log_every=LOG_EVERY)  # fmt: skip
    loss, acc = member_loss_and_accuracy(model, x, y)
    for m, (seed, lr) in enumerate(zip(seeds, lrs, strict=True)):
        net, losses = single(sigmoid_bn, seed, lr)
        torch.testing.assert_close(torch.stack(hist.train_loss)[:, m], torch.tensor(losses),
                                   rtol=1e-4, atol=1e-6)  # fmt: skip
        check_member(model, m, net)
        assert float(acc[m]) == pytest.approx(evaluate(net, x, y).accuracy)
        assert float(loss[m]) == pytest.approx(losses[-1], rel=1e-4)


def test_skip_zero_is_the_plain_net_of_the_same_layers() -> None:
    x, y = problem()
    seeds, skip = [3, 4, 3, 4], [1, 1, 0, 0]
    model = StackedNet.from_seeds(lambda: relu_res(True), seeds, skip=skip)
    grads = preact_grad_norms(model, x, y)
    hist = fit_stacked(model, x, y, seeds=seeds, steps=STEPS, lr=0.1, batch_size=BATCH,
                       log_every=LOG_EVERY)  # fmt: skip
    for m, (seed, s) in enumerate(zip(seeds, skip, strict=True)):
        torch.manual_seed(seed)
        fresh = relu_res(bool(s))
        norms = probes.grad_norms_at(
            fresh, x, lambda out: torch.nn.functional.cross_entropy(out, y)
        )
        torch.testing.assert_close(grads[m], torch.tensor([norms[n] for n in fresh.hidden_names]),
                                   rtol=1e-4, atol=1e-7)  # fmt: skip
        net, losses = single(lambda s=s: relu_res(bool(s)), seed, 0.1)
        torch.testing.assert_close(torch.stack(hist.train_loss)[:, m], torch.tensor(losses),
                                   rtol=1e-4, atol=1e-6)  # fmt: skip
        check_member(model, m, net)


def test_batch_statistics_leave_the_running_ones_alone_and_lesions_restore() -> None:
    x, _ = problem()
    model = StackedNet.from_seeds(lambda: relu_res(True), [0, 1])
    before = model.running_mean0.clone()
    model(x, stats="batch")
    assert torch.equal(model.running_mean0, before)
    model.train()
    model(x)
    assert not torch.equal(model.running_mean0, before)
    full = model(x, stats="running")
    restore = model.skip_stage(1)
    assert len(model.stages) == 3 and not torch.equal(model(x, stats="running"), full)
    restore()
    assert torch.equal(model(x, stats="running"), full)


def test_a_diverging_member_does_not_disturb_the_others() -> None:
    x, y = problem()
    model = StackedNet.from_seeds(lambda: MLP.deep(6, 12, 3, 3, activation="relu"), [0, 0])
    hist = fit_stacked(model, x, y, seeds=[0, 0], steps=STEPS, lr=[0.1, 1e6], batch_size=BATCH,
                       log_every=LOG_EVERY)  # fmt: skip
    torch.manual_seed(0)
    _, losses = single(lambda: MLP.deep(6, 12, 3, 3, activation="relu"), 0, 0.1)
    torch.testing.assert_close(torch.stack(hist.train_loss)[:, 0], torch.tensor(losses),
                               rtol=1e-4, atol=1e-6)  # fmt: skip
    assert not bool(torch.isfinite(hist.train_loss[-1][1]))


def test_rejects_what_it_cannot_stack() -> None:
    with pytest.raises(ValueError, match="same stages"):
        StackedNet([relu_res(True), relu_res(False)])
    with pytest.raises(ValueError, match="parameter-free"):
        StackedNet([MLP([4, 8, 2], activation="prelu")])
