"""gradbook.probes: the hooks report what autograd computes, and leave no trace."""

import pytest
import torch

from gradbook import probes
from gradbook.nets import MLP


def _net() -> MLP:
    torch.manual_seed(0)
    return MLP.deep(5, 7, 3, 2, activation="tanh", init="xavier")


def _by_hand(net: MLP, x: torch.Tensor) -> tuple[dict, dict]:
    """Pre-activation and weight gradient norms with retain_grad, no hooks."""
    zs, h = {}, x
    for name in net.hidden_names:
        layer = net.layers[name]
        z = layer.linear(h)
        z.retain_grad()
        zs[name] = z
        h = torch.tanh(z)
    net.layers["output"].linear(h).pow(2).sum().backward()
    pre = {n: float(z.grad.norm()) for n, z in zs.items()}
    weight = {n: float(net.layers[n].linear.weight.grad.norm()) for n in net.layers}
    net.zero_grad(set_to_none=True)
    return pre, weight


def test_grad_norms_match_autograd_by_hand():
    net = _net()
    x = torch.randn(11, 5)
    pre, weight = _by_hand(net, x)
    with probes.grad_norms(net) as g:
        net(x).pow(2).sum().backward()
    assert g.pre_activation.keys() == pre.keys()
    for name in pre:
        assert g.pre_activation[name] == pytest.approx(pre[name], rel=1e-6)
    for name in weight:
        assert g.weight[name] == pytest.approx(weight[name], rel=1e-6)


def test_history_and_hooks_are_removed():
    net = _net()
    with probes.grad_norms(net) as g:
        for _ in range(3):
            net(torch.randn(4, 5)).sum().backward()
    assert all(len(v) == 3 for v in g.history().values())
    assert all(len(v) == 3 for v in g.history("weight").values())
    for module in net.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
    assert not any(p._backward_hooks for p in net.parameters())
    before = g.history()
    net(torch.randn(4, 5)).sum().backward()  # after the block: nothing is recorded
    assert g.history() == before


def test_grad_norms_at_default_loss_is_sum_of_outputs():
    net = _net()
    x = torch.randn(6, 5)
    norms = probes.grad_norms_at(net, x)
    # the gradient of the output layer's pre-activation of sum(out) is all ones
    with probes.grad_norms(net) as g:
        net(x).sum().backward()
    assert norms == pytest.approx(g.pre_activation)
    assert all(p.grad is None for p in _net().parameters())


def test_activation_stats_and_dead_units():
    torch.manual_seed(0)
    net = MLP([3, 4, 2], activation="relu")
    with torch.no_grad():
        net.layers["hidden1"].linear.weight.zero_()
        net.layers["hidden1"].linear.bias.copy_(torch.tensor([-1.0, 1.0, -2.0, 3.0]))
    x = torch.randn(10, 3)
    with probes.activations(net, percentiles=(0, 50, 100)) as a:
        net(x)
    post = a.post["hidden1"]
    assert post.dead_fraction == 0.5  # the units with negative bias never fire
    assert post.percentiles[0] == 0 and post.percentiles[100] == 3
    assert post.mean == pytest.approx(1.0)  # (0 + 1 + 0 + 3) / 4
    assert post.spread == 0  # zero weights: every input gets the same output
    assert a.pre["hidden1"].percentiles[0] == -2
    assert probes.dead_fraction(net, x) == {"hidden1": 0.5}


def test_fallback_for_plain_modules():
    seq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    with probes.grad_norms(seq) as g:
        seq(torch.randn(2, 3)).sum().backward()
    assert list(g.pre_activation) == ["1"] and list(g.weight) == ["0", "2"]


def test_every_records_one_pass_in_k():
    net = _net()
    with probes.grad_norms(net, every=3) as g:
        for _ in range(7):
            net(torch.randn(4, 5)).sum().backward()
    assert all(len(v) == 3 for v in g.history().values())  # passes 0, 3, 6
    assert all(len(v) == 3 for v in g.history("weight").values())


def test_probe_reads_gradients_before_clipping():
    net = _net()
    x = torch.randn(11, 5)
    _, weight = _by_hand(net, x)
    with probes.grad_norms(net) as g:
        net(x).pow(2).sum().backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1e-6)
    assert g.weight["hidden1"] == pytest.approx(weight["hidden1"], rel=1e-6)


def test_pre_activation_that_is_a_leaf_and_batch_norm_outputs():
    # z is the input itself (no node computed it): the probe falls back to a tensor hook
    x = torch.randn(4, 3, requires_grad=True)
    net = torch.nn.Sequential(torch.nn.Tanh())
    with probes.grad_norms(net) as g:
        net(x).pow(2).sum().backward()
    assert g.pre_activation["0"] == pytest.approx(float(x.grad.norm()), rel=1e-6)
    # batch norm's node has several outputs; z is the first one
    torch.manual_seed(0)
    bn = MLP([3, 5, 2], activation="relu", batch_norm=True)
    x = torch.randn(8, 3)
    z = bn.layers["hidden1"].norm(bn.layers["hidden1"].linear(x))
    z.retain_grad()
    bn.layers["output"](torch.relu(z)).sum().backward()
    expected = float(z.grad.norm())
    bn.zero_grad(set_to_none=True)
    with probes.grad_norms(bn) as g:
        bn(x).sum().backward()
    assert g.pre_activation["hidden1"] == pytest.approx(expected, rel=1e-6)


def test_activation_summaries_are_computed_once_and_refreshed_by_a_new_forward() -> None:
    torch.manual_seed(0)
    net = MLP([4, 8, 8, 2], activation="relu")
    x = torch.randn(16, 4)
    with torch.no_grad(), probes.activations(net) as acts:
        net(x)
        first = acts.pre
        assert acts.pre is first  # reading it per layer costs nothing more
        net(x * 3)
        second = acts.pre
    assert second is not first
    name = next(iter(first))
    assert second[name].std > first[name].std  # the new batch is part of the summary


def test_in_place_activation_reports_the_pre_activation_gradient():
    # the probe reads z before the activation runs: an in-place ReLU overwrites z and its grad_fn
    torch.manual_seed(0)
    lin1, lin2 = torch.nn.Linear(3, 6), torch.nn.Linear(6, 2)
    x = torch.randn(8, 3)
    z = lin1(x)
    z.retain_grad()
    lin2(torch.relu(z)).pow(2).sum().backward()
    expected = float(z.grad.norm())
    net = torch.nn.Sequential(lin1, torch.nn.ReLU(inplace=True), lin2)
    net.zero_grad(set_to_none=True)
    with probes.grad_norms(net) as g:
        net(x).pow(2).sum().backward()
    assert g.pre_activation["1"] == pytest.approx(expected, rel=1e-6)


def _records(g: probes.GradNorms) -> list[list[tuple[tuple[str, str], float]]]:
    """Each backward's norms by what they are (a backward over two forwards may order them apart)."""
    return [sorted(zip(keys, norms.tolist(), strict=True)) for keys, norms in g._records]


def _exercise(net: MLP, x: torch.Tensor, every: int) -> probes.GradNorms:
    """Training steps, two forwards under one backward, a backward run twice, clipping."""
    with probes.grad_norms(net, every=every) as g:
        for _ in range(4):
            net(x).pow(2).sum().backward()
        (net(x[:3]).sum() + net(x[3:]).pow(2).sum()).backward()
        out = net(x).sum()
        out.backward(retain_graph=True)
        out.backward()
        net(x).sum().backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1e-3)
    return g


@pytest.mark.parametrize("every", [1, 2])
@pytest.mark.parametrize("kind", ["plain", "batch_norm", "residual"])
def test_tap_and_hook_fallback_record_the_same_numbers(monkeypatch, kind, every):
    def net() -> MLP:
        torch.manual_seed(0)
        return MLP.deep(
            5,
            6,
            3,
            2,
            activation="tanh",
            batch_norm=kind == "batch_norm",
            residual=kind == "residual",
        )

    x = torch.randn(9, 5)
    tapped = _exercise(net(), x, every)
    assert tapped._tapped == [] and tapped._records  # taps are removed on exit
    monkeypatch.setattr(probes, "_taps", lambda model, points: None)  # as a model without taps
    hooked = _exercise(net(), x, every)
    assert _records(tapped) == _records(hooked)  # bit for bit
    assert tapped.history() == hooked.history()  # in the same order
    assert tapped.history("weight") == hooked.history("weight")
    assert (tapped.pre_activation, tapped.weight) == (hooked.pre_activation, hooked.weight)


def test_tap_with_a_frozen_first_layer_records_the_layers_after_it(monkeypatch):
    def net() -> MLP:
        torch.manual_seed(0)
        net = MLP.deep(5, 6, 3, 2, activation="tanh")
        net.layers["hidden1"].linear.requires_grad_(False)  # z1 needs no gradient
        return net

    x = torch.randn(9, 5)
    tapped, sampled = _exercise(net(), x, every=1), _exercise(net(), x, every=2)
    assert list(tapped.pre_activation) == ["hidden2", "hidden3"]
    # the pass starts at the first z with a gradient: every=2 still counts passes
    assert len(tapped.history()["hidden2"]) == 9  # 8 forwards, two of them under one backward
    assert len(sampled.history()["hidden2"]) == 5  # forwards 0, 2, 4 and 6, the last one twice
    monkeypatch.setattr(probes, "_taps", lambda model, points: None)
    hooked = _exercise(net(), x, every=1)
    assert _records(tapped) == _records(hooked)
    assert tapped.history("weight") == hooked.history("weight")


def test_tap_path_installs_no_module_hooks_and_leaves_nothing_behind():
    net = _net()
    zs: list[torch.Tensor] = []
    spies = [
        m.register_forward_pre_hook(lambda m, i: zs.append(i[0]))
        for m in net.probe_points().values()
    ]
    state = {k: v.clone() for k, v in net.state_dict().items()}
    dicts = [set(m.__dict__) for m in net.modules()]
    with probes.grad_norms(net) as g:
        assert len(g._tapped) == 3 and not g._handles
        net(torch.randn(4, 5)).sum().backward()
        net(torch.randn(4, 5)).sum()  # a forward pass whose backward never comes
    for h in spies:
        h.remove()
    assert len(zs) == 6 and not any(z.retains_grad for z in zs)  # no .grad kept on any z
    assert all(not grads for _, grads, _ in g._slots)  # no gradient kept past the block
    assert [set(m.__dict__) for m in net.modules()] == dicts
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())
    assert all(len(v) == 1 for v in g.history().values())


def test_gradbook_net_with_an_in_place_activation_falls_back_to_hooks():
    torch.manual_seed(0)
    net = MLP([3, 6, 2], activation="relu")
    x = torch.randn(8, 3)
    z = net.layers["hidden1"].linear(x)
    z.retain_grad()
    net.layers["output"](torch.relu(z)).pow(2).sum().backward()
    expected = float(z.grad.norm())
    net.zero_grad(set_to_none=True)
    net.layers["hidden1"].act = torch.nn.ReLU(inplace=True)
    with probes.grad_norms(net) as g:
        assert not g._tapped
        net(x).pow(2).sum().backward()
    assert g.pre_activation["hidden1"] == pytest.approx(expected, rel=1e-6)


def test_a_frozen_layer_has_no_weight_norm():
    net = _net()
    net.layers["hidden1"].linear.weight.requires_grad_(False)
    with probes.grad_norms(net) as g:
        net(torch.randn(4, 5)).sum().backward()
    assert list(g.weight) == ["hidden2", "hidden3", "output"]
    assert g.history("weight")["hidden1"] == [] and len(g.pre_activation) == 3
