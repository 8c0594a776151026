"""gradbook.nets: shapes, names, residual blocks and batch norm."""

import pytest
import torch

from gradbook.nets import ACTIVATIONS, MLP


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_builds_and_runs(activation):
    net = MLP([64, 32, 32, 10], activation=activation)
    assert net(torch.randn(8, 64)).shape == (8, 10)


def test_layers_are_named_in_forward_order():
    net = MLP.deep(64, 16, 3, 10, activation="tanh", init="xavier")
    assert list(net.layers) == ["hidden1", "hidden2", "hidden3", "output"]
    assert net.hidden_names == ["hidden1", "hidden2", "hidden3"] and net.depth == 3
    assert list(net.probe_points()) == net.hidden_names
    assert list(net.layer_weights()) == [*net.hidden_names, "output"]
    assert "layers.hidden3.linear.weight" in dict(net.named_parameters())
    assert net.layers["hidden2"].linear.weight.shape == (16, 16)


def test_options_bias_batch_norm_init():
    net = MLP([10, 20, 5], bias=False, batch_norm=True, init="kaiming")
    assert net.layers["hidden1"].linear.bias is None
    assert isinstance(net.layers["hidden1"].norm, torch.nn.BatchNorm1d)
    assert not isinstance(net.layers["output"].norm, torch.nn.BatchNorm1d)
    assert net(torch.randn(4, 10)).shape == (4, 5)


def test_residual_forward_is_block_plus_skip():
    torch.manual_seed(0)
    net = MLP.deep(6, 8, 3, 2, activation="relu", residual=True)
    assert net.stages == [("hidden1",), ("hidden2", "hidden3"), ("output",)]
    x = torch.randn(5, 6)
    L = net.layers
    h = L["hidden1"](x)
    inner = L["hidden2"](h)
    expected = L["output"](torch.relu(L["hidden3"].linear(inner) + h))
    assert torch.allclose(net(x), expected)
    with pytest.raises(ValueError, match="residual"):
        MLP.deep(6, 8, 4, 2, residual=True)


def test_seed_determinism():
    torch.manual_seed(1)
    a = MLP.deep(8, 8, 2, 2, init="xavier")
    torch.manual_seed(1)
    b = MLP.deep(8, 8, 2, 2, init="xavier")
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_pre_activation_taps_see_what_the_activations_get():
    torch.manual_seed(0)
    net = MLP.deep(4, 5, 3, 2, activation="tanh", residual=True)
    taps = net.pre_activation_taps()
    assert {n: d.act for n, d in taps.items()} == net.probe_points()
    seen: dict[str, torch.Tensor] = {}
    got: dict[str, torch.Tensor] = {}
    hooks = [
        m.register_forward_pre_hook(lambda m, i, n=n: got.setdefault(n, i[0]))
        for n, m in net.probe_points().items()
    ]
    for name, dense in taps.items():
        dense.tap = lambda z, name=name: seen.setdefault(name, z)
    net(torch.randn(3, 4))
    for h in hooks:
        h.remove()
    assert all(seen[n] is got[n] for n in got) and list(seen) == list(got)
    for dense in taps.values():
        del dense.tap
    assert all(d.tap is None for d in taps.values())  # the class default: no tap
