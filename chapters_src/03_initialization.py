# %% [markdown]
# # 03 Initialisation: symmetry, scale, Xavier and He
#
# Four measurements, each small enough to rerun in seconds:
#
# 1. **Scale, forward.** Push a batch of N(0, 1) inputs through 30 ReLU layers at init and watch the
#    standard deviation of each layer's pre-activation under five schemes (He et al. 2015).
# 2. **Scale, training.** Train the same depth on digits from Xavier and from He (Kaiming) init with
#    the same plain-SGD budget.
# 3. **Symmetry.** Train a one-hidden-layer net from equal weights and from random ones and count
#    how many different hidden units it ends up with.
# 4. **Scale, backward.** Glorot & Bengio's (2010) measurement: the variance of the back-propagated
#    gradient per tanh layer, "standard" init vs Xavier's normalised init.

# %%
from __future__ import annotations

import torch
import torch.nn.functional as F

from gradbook import data, probes
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import PALETTE, color
from gradbook.train import evaluate, fit

ch = Chapter.start(__file__)
cfg = ch.config
digits = data.digits(seed=ch.seed)

# %% [markdown]
# ## 1. The forward signal through 30 ReLU layers
#
# Each hidden layer multiplies the second moment of its input by `fan_in * Var(w) / 2` (the 1/2 is
# ReLU dropping the negative half). Only He's `Var(w) = 2 / fan_in` makes that factor one.


# %%
def init_kwargs(scheme: str, sc: dict) -> dict:
    """Per-scheme knobs: the naive std, and the ReLU gain for the orthogonal matrix."""
    if scheme == "naive":
        return {"std": sc["naive_std"]}
    if scheme == "orthogonal":
        return {"gain": sc["orthogonal_gain"]}
    return {}


def preact_stds(scheme: str, sc: dict, x: torch.Tensor) -> list[float]:
    """Std of each hidden layer's pre-activation for one batch, layer 1 first."""
    net = MLP.deep(
        sc["width"], sc["width"], sc["depth"], sc["width"],
        activation="relu", init=scheme, bias=False, init_kwargs=init_kwargs(scheme, sc),
    )  # fmt: skip
    with torch.no_grad(), probes.activations(net) as acts:
        net(x)
    pre = acts.pre  # summarises every layer once
    return [pre[name].std for name in net.hidden_names]


sig = cfg["signal"]
x_gauss = data.gaussian_batch(sig["batch"], sig["width"], seed=ch.seed + 1)
act_std = {s: preact_stds(s, sig, x_gauss) for s in sig["schemes"]}
ch.results["act_std_per_layer"] = act_std
ch.results["act_std_ratio"] = {s: stds[-1] / stds[0] for s, stds in act_std.items()}
# The theory's prediction for the same ratio: the per-layer factor to the power depth - 1.
fan = sig["width"]
per_layer_factor = {
    "naive": (fan * sig["naive_std"] ** 2 / 2) ** 0.5,
    "pytorch_default": (fan * (1 / (3 * fan)) / 2) ** 0.5,
    "xavier": (fan * (2 / (2 * fan)) / 2) ** 0.5,
    "kaiming": 1.0,
    "orthogonal": (sig["orthogonal_gain"] ** 2 / 2) ** 0.5,
}
ch.results["act_std_ratio_theory"] = {
    s: f ** (sig["depth"] - 1) for s, f in per_layer_factor.items()
}
ch.results["xavier_depth30_he_estimate"] = 2 ** (-(sig["depth"] - 1) / 2)


def draw_act_std(fig, tr):
    ax = fig.add_subplot()
    layers = list(range(1, sig["depth"] + 1))
    names = {
        "naive": tr("naive N(0, 0.01²)", "朴素 N(0, 0.01²)"),
        "pytorch_default": tr("PyTorch default", "PyTorch 默认"),
        "xavier": "Xavier",
        "kaiming": tr("He (Kaiming)", "He（Kaiming）"),
        "orthogonal": tr("orthogonal, gain √2", "正交，增益 √2"),
    }
    colors = {"naive": PALETTE[3], "pytorch_default": PALETTE[4], "orthogonal": PALETTE[0]}
    for s, stds in act_std.items():
        ax.plot(layers, stds, label=names[s], color=colors.get(s, color(s)), marker="o",
                markersize=2.5, linestyle="--" if s == "orthogonal" else "-")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel(tr("layer", "层"))
    ax.set_ylabel(tr("std of pre-activation", "预激活的标准差"))
    ax.set_title(tr("30 ReLU layers at init, width 256", "初始化时的 30 层 ReLU 网络（宽 256）"))
    ax.legend(loc="lower left", fontsize=9)


ch.figure("act_std", draw_act_std)

# %% [markdown]
# ## 2. Training 30 ReLU layers on digits: Xavier vs He
#
# Same net, same data order, same learning rate and number of steps; only the init differs.

# %%
dt = cfg["deep_train"]
curves: dict[str, list[float]] = {}
steps_logged: list[int] = []
final_loss: dict[str, float] = {}
deep_test_acc: dict[str, float] = {}
for scheme in dt["schemes"]:
    torch.manual_seed(ch.seed)
    net = MLP.deep(digits.n_features, dt["width"], dt["depth"], digits.n_classes, init=scheme)
    hist = fit(
        net, digits.x_train, digits.y_train, steps=dt["steps"], lr=dt["lr"],
        batch_size=dt["batch_size"], log_every=dt["log_every"], seed=ch.seed,
    )  # fmt: skip
    curves[scheme], steps_logged = hist.train_loss, hist.steps
    final_loss[scheme] = hist.train_loss[-1]
    deep_test_acc[scheme] = evaluate(net, digits.x_test, digits.y_test).accuracy
ch.results["final_train_loss"] = final_loss
ch.results["deep_test_acc"] = deep_test_acc
ch.results["train_loss_curve"] = {"steps": steps_logged, **curves}


def draw_train_loss(fig, tr):
    ax = fig.add_subplot()
    label = {"xavier": "Xavier", "kaiming": tr("He (Kaiming)", "He（Kaiming）")}
    for s in dt["schemes"]:
        ax.plot(steps_logged, curves[s], label=label[s], color=color(s))
    ax.set_yscale("log")
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("training loss (cross-entropy)", "训练损失（交叉熵）"))
    ax.set_title(
        tr("30 ReLU layers on digits, plain SGD", "30 层 ReLU 网络训练 digits（普通 SGD）")
    )
    ax.legend()


ch.figure("train_loss", draw_train_loss)

# %% [markdown]
# ## 3. Symmetry: equal weights stay equal
#
# If every hidden unit starts with the same incoming and outgoing weights, every unit computes the
# same value and receives the same gradient, so gradient descent keeps them equal forever.


# %%
def distinct_rows(weight: torch.Tensor, decimals: int) -> int:
    """How many different incoming weight vectors (rows), equal to `decimals` decimals."""
    return len(torch.unique(torch.round(weight, decimals=decimals), dim=0))


sy = cfg["symmetry"]
inits = {
    "constant": ("constant", {"value": sy["constant_value"]}),
    "random": (sy["random_init"], {}),
}
distinct: dict[str, int] = {}
sym_acc: dict[str, float] = {}
sym_weights: dict[str, torch.Tensor] = {}
for key, (scheme, kwargs) in inits.items():
    torch.manual_seed(ch.seed)
    net = MLP(
        [digits.n_features, sy["hidden"], digits.n_classes],
        activation=sy["activation"], init=scheme, init_kwargs=kwargs,
    )  # fmt: skip
    fit(
        net, digits.x_train, digits.y_train, steps=sy["steps"], lr=sy["lr"],
        batch_size=sy["batch_size"], log_every=sy["steps"], seed=ch.seed,
    )  # fmt: skip
    w = net.layers["hidden1"].linear.weight.detach()
    distinct[key] = distinct_rows(w, sy["decimals"])
    sym_acc[key] = evaluate(net, digits.x_test, digits.y_test).accuracy
    sym_weights[key] = w.clone()
ch.results["distinct_hidden_units"] = distinct
ch.results["symmetry_test_acc"] = sym_acc
ch.results["symmetry_hidden_width"] = sy["hidden"]


def draw_symmetry(fig, tr):
    axes = fig.subplots(1, 2)
    titles = {
        "constant": tr("constant init", "常数初始化"),
        "random": tr("random init", "随机初始化"),
    }
    for ax, key in zip(axes, inits, strict=True):
        w = sym_weights[key]
        lim = float(w.abs().max())
        ax.imshow(
            w.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest"
        )
        ax.set_title(titles[key])
        ax.set_xlabel(tr("input pixel", "输入像素"))
        ax.grid(False)
    axes[0].set_ylabel(tr("hidden unit", "隐藏单元"))


ch.figure("symmetry", draw_symmetry, figsize=(5.6, 3.0))

# %% [markdown]
# ## 4. Glorot & Bengio: variance of the back-propagated gradient
#
# With "standard" init, U(-1/sqrt(n), 1/sqrt(n)), n Var(w) = 1/3, so going down one layer divides
# the gradient's variance by about 3. Xavier's Var(w) = 2/(n_in + n_out) keeps it.


# %%
def backprop_var(scheme: str, gl: dict) -> list[float]:
    """Var(dLoss/dz) per hidden layer at init on the digits training set, relative to the top layer."""
    torch.manual_seed(ch.seed)
    net = MLP.deep(digits.n_features, gl["width"], gl["depth"], digits.n_classes,
                   activation="tanh", init=scheme)  # fmt: skip
    zs: dict[str, torch.Tensor] = {}
    hooks = [
        module.register_forward_hook(lambda m, inp, out, n=name: zs.__setitem__(n, inp[0]))
        for name, module in net.probe_points().items()
    ]
    out = net(digits.x_train)
    for z in zs.values():
        z.retain_grad()  # keep dLoss/dz of these non-leaf tensors
    F.cross_entropy(out, digits.y_train).backward()
    for h in hooks:
        h.remove()
    var = [float(zs[name].grad.var()) for name in net.hidden_names]
    return [v / var[-1] for v in var]


gl = cfg["glorot"]
ch.results["backprop_grad_var_rel"] = {s: backprop_var(s, gl) for s in gl["schemes"]}


def draw_backprop(fig, tr):
    ax = fig.add_subplot()
    layers = list(range(1, gl["depth"] + 1))
    label = {
        "standard": tr("standard U(±1/√n)", "标准 U(±1/√n)"),
        "xavier": tr("Xavier (normalised)", "Xavier（归一化初始化）"),
    }
    for i, s in enumerate(gl["schemes"]):
        ax.plot(layers, ch.results["backprop_grad_var_rel"][s], marker="o", label=label[s],
                color=color(s, i + 3))  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xlabel(tr("hidden layer (1 = nearest the input)", "隐藏层（1 = 最靠近输入）"))
    ax.set_ylabel(tr("Var(∂L/∂z) / top layer's", "Var(∂L/∂z) / 最高层"))
    ax.set_title(tr("tanh, 5 hidden layers, at init", "tanh，5 个隐藏层，初始化时"))
    ax.legend()


ch.figure("backprop_var", draw_backprop)

# %%
ch.finish()
