"""gradbook.lite is the twin of gradbook (torch): same names and signatures, and the same numbers.

The weights of a `gradbook.nets.MLP` are copied into a `gradbook.lite.MLP` built with the same
arguments; outputs, the loss, the pre-activations and the gradient of every parameter and of the
input must agree in float64, in training and in evaluation mode.
"""

from __future__ import annotations

import inspect

import pytest
import torch

from gradbook import data as tdata
from gradbook import init as tinit
from gradbook import nets
from gradbook.lite import Rng, Tensor, cross_entropy
from gradbook.lite import data as ldata
from gradbook.lite import init as linit
from gradbook.lite import nets as lnets

TOL = 1e-10


def close(rows, ref: torch.Tensor) -> None:
    ref = ref.detach().to(torch.float64)
    got = torch.tensor(rows, dtype=torch.float64).reshape(ref.shape)
    assert torch.allclose(got, ref, rtol=TOL, atol=TOL), (got - ref).abs().max().item()


def t64(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


CONFIGS = [
    {"sizes": [5, 6, 6, 3], "activation": "tanh", "init": "xavier"},
    {"sizes": [5, 7, 6, 3], "activation": "sigmoid", "init": "lecun", "batch_norm": True},
    {"sizes": [5, 6, 6, 6, 3], "activation": "relu", "init": "kaiming", "batch_norm": True,
     "residual": True},
    {"sizes": [5, 6, 6, 6, 6, 6, 3], "activation": "leaky_relu", "init": "kaiming_uniform",
     "residual": True},
    {"sizes": [5, 6, 6, 6, 3], "activation": "prelu", "batch_norm": True, "residual": True},
    {"sizes": [5, 6, 6, 6, 3], "activation": "elu", "init": "orthogonal", "bias": False,
     "batch_norm": True, "residual": True},
    {"sizes": [5, 6, 4, 3], "activation": "selu", "init": "naive", "init_kwargs": {"std": 0.5}},
    {"sizes": [5, 6, 4, 3], "activation": "softplus", "init": "xavier_uniform"},
    {"sizes": [5, 6, 6, 6, 3], "activation": "gelu", "init": "standard", "residual": True},
]  # fmt: skip


def twins(cfg: dict) -> tuple[nets.MLP, lnets.MLP]:
    """A torch MLP and a lite MLP built from the same arguments, the lite one given torch's weights."""
    torch.manual_seed(0)
    tnet = nets.MLP(**cfg).double()
    lnet = lnets.MLP(**cfg, rng=Rng(0))
    assert list(tnet.layers) == list(lnet.layers) and tnet.stages == lnet.stages
    for tp, lp in zip(tnet.parameters(), lnet.parameters(), strict=True):
        rows = tp.detach().reshape(lp.shape).tolist()
        assert len(rows) == lp.shape[0] and len(rows[0]) == lp.shape[1]
        lp.data = rows
    return tnet, lnet


def torch_step(tnet: nets.MLP, x: torch.Tensor, y: torch.Tensor):
    """Loss and pre-activations (with their gradients kept) of one forward and backward pass."""
    zs: list[torch.Tensor] = []

    def keep(_module, args):
        args[0].retain_grad()
        zs.append(args[0])

    hooks = [m.register_forward_pre_hook(keep) for m in tnet.probe_points().values()]
    out = tnet(x)
    loss = torch.nn.functional.cross_entropy(out, y)
    loss.backward()
    for h in hooks:
        h.remove()
    return out, loss, zs


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_lite_mlp_computes_what_the_torch_mlp_computes(cfg: dict) -> None:
    tnet, lnet = twins(cfg)
    rng = Rng(1)
    for mode in ("train", "train", "eval"):  # two training passes move the running statistics
        tnet.train(mode == "train")
        lnet.train(mode == "train")
        tnet.zero_grad()
        lnet.zero_grad()
        x_rows = rng.normal(8, cfg["sizes"][0], std=2.0)
        labels = [rng.randrange(cfg["sizes"][-1]) for _ in range(8)]
        x = Tensor(x_rows, requires_grad=True)
        tx = t64(x_rows).requires_grad_()
        out = lnet(x)
        loss = cross_entropy(out, labels)
        loss.backward()
        tout, tloss, tzs = torch_step(tnet, tx, torch.tensor(labels))
        close(out.data, tout)
        close(loss.data, tloss)
        close(x.grad, tx.grad)
        for z, tz in zip(lnet.pre_activations, tzs, strict=True):
            close(z.data, tz)
            close(z.grad, tz.grad)
        named = list(tnet.named_parameters())
        for (name, tp), lp in zip(named, lnet.parameters(), strict=True):
            assert lp.grad is not None, name
            close(lp.grad, tp.grad.reshape(lp.shape))
    if cfg.get("batch_norm"):
        for name in lnet.hidden_names:
            tbn, lbn = tnet.layers[name].norm, lnet.layers[name].norm
            close([lbn.running_mean], tbn.running_mean[None])
            close([lbn.running_var], tbn.running_var[None])


def test_residual_needs_an_odd_hidden_count_in_both() -> None:
    for make in (lambda: nets.MLP([4, 6, 6, 2], residual=True),
                 lambda: lnets.MLP([4, 6, 6, 2], residual=True, rng=Rng(0))):  # fmt: skip
        with pytest.raises(ValueError, match="odd number of hidden layers"):
            make()


def _params(fn) -> list[tuple[str, object]]:
    """(name, default) of fn's parameters, without lite's `rng` and torch's `dtype`."""
    sig = inspect.signature(fn)
    return [(p.name, p.default) for p in sig.parameters.values() if p.name not in ("rng", "dtype")]


@pytest.mark.parametrize(
    ("torch_fn", "lite_fn"),
    [
        (nets.MLP.__init__, lnets.MLP.__init__),
        (nets.MLP.deep, lnets.MLP.deep),
        (nets.Dense.__init__, lnets.Dense.__init__),
        (nets.make_activation, lnets.make_activation),
        (tinit.gain, linit.gain),
        (tdata.digits, ldata.digits),
        (tdata.gaussian_batch, ldata.gaussian_batch),
        (tdata.adding_problem, ldata.adding_problem),
    ],
    ids=lambda f: f.__qualname__,
)
def test_same_signatures(torch_fn, lite_fn) -> None:
    t, lt = _params(torch_fn), _params(lite_fn)
    if torch_fn is nets.Dense.__init__:  # lite passes the init to each layer; torch re-inits after
        lt = [p for p in lt if p[0] not in ("init", "init_kwargs")]
    assert t == lt


def test_same_names() -> None:
    assert list(nets.ACTIVATIONS) == list(lnets.ACTIVATIONS)
    assert list(tinit.INITS) == list(linit.INITS)
    for name, fn in tinit.INITS.items():  # the same keywords (lite adds the rng after the bias)
        t, lt = _params(fn), _params(linit.INITS[name])
        assert [p for p in t if p[0] not in ("weight", "bias")] == [
            p for p in lt if p[0] not in ("weight", "bias")
        ], name
    for nl in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert tinit.gain(nl, 0.2) == linit.gain(nl, 0.2)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
def test_kaiming_gain_follows_the_activation(activation: str) -> None:
    """He's std is gain/sqrt(fan_in), the gain of leaky ReLU (slope 0.01) for a leaky net, of ReLU
    otherwise: what both MLPs do. Statistical, since the generators differ."""
    fan_in = 400
    torch.manual_seed(0)
    tnet = nets.MLP([fan_in, 300, 2], activation, "kaiming")
    lnet = lnets.MLP([fan_in, 300, 2], activation, "kaiming", rng=Rng(0))
    t_std = tnet.layers["hidden1"].linear.weight.std().item()
    w = [v for row in lnet.layers["hidden1"].linear.weight.data for v in row]
    l_std = (sum(v * v for v in w) / len(w)) ** 0.5
    nl = "leaky_relu" if activation == "leaky_relu" else "relu"
    expect = tinit.gain(nl) / fan_in**0.5
    assert t_std == pytest.approx(expect, rel=0.02) and l_std == pytest.approx(expect, rel=0.02)


@pytest.mark.parametrize("cfg", [CONFIGS[2], CONFIGS[4]], ids=["relu-bn-residual", "prelu"])
def test_training_steps_stay_twins(cfg: dict) -> None:
    """Three SGD steps with momentum and weight decay keep every parameter equal, then eval mode."""
    from gradbook.lite import SGD

    tnet, lnet = twins(cfg)
    opt = SGD(lnet.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    rng = Rng(2)
    for _ in range(3):
        x_rows = rng.normal(8, cfg["sizes"][0])
        labels = [rng.randrange(cfg["sizes"][-1]) for _ in range(8)]
        opt.zero_grad()
        topt.zero_grad()
        loss = cross_entropy(lnet(Tensor(x_rows)), labels)
        tloss = torch.nn.functional.cross_entropy(tnet(t64(x_rows)), torch.tensor(labels))
        loss.backward()
        tloss.backward()
        close(loss.data, tloss)
        opt.step()
        topt.step()
        for tp, lp in zip(tnet.parameters(), lnet.parameters(), strict=True):
            close(lp.data, tp.reshape(lp.shape))
    lnet.eval()
    tnet.eval()
    x_rows = rng.normal(4, cfg["sizes"][0])
    close(lnet(Tensor(x_rows)).data, tnet(t64(x_rows)))


def test_probes_read_the_same_gradients_as_gradbook_probes() -> None:
    """Chapter 02's probe: ||dLoss/dz|| per hidden layer and ||dLoss/dW|| per layer."""
    from gradbook import probes as tprobes
    from gradbook.lite import probes as lprobes

    tnet, lnet = twins({"sizes": [8, 8, 8, 8, 2], "activation": "sigmoid", "init": "lecun"})
    x_rows = Rng(3).normal(16, 8)
    lnet(Tensor(x_rows)).sum().backward()
    ref = tprobes.grad_norms_at(tnet, t64(x_rows), lambda out: out.sum())
    assert lprobes.preact_grad_norms(lnet) == pytest.approx(list(ref.values()), rel=TOL)
    tnet(t64(x_rows)).sum().backward()
    weights = [w.grad.norm().item() for w in tnet.layer_weights().values()]
    assert lprobes.weight_grad_norms(lnet) == pytest.approx(weights, rel=TOL)
