# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 02 · Sigmoid, tanh, ReLU and its family
#
# Three experiments:
#
# 1. **Gradient at initialisation.** Ten hidden layers of width 256, weights drawn from
#    $\mathcal N(0, 1/\text{fan\_in})$, zero biases, a batch of 256 standard normal inputs and the loss
#    "sum of the outputs". The `grad_norms` probe reads $\lVert\partial L/\partial z_l\rVert$, the
#    gradient at each layer's pre-activation, for five activations.
# 2. **Training.** Eight hidden layers of width 64 on the digits with plain SGD and one learning rate
#    for every activation, each with its matched init (Xavier for sigmoid and tanh, He for ReLU),
#    then again with PyTorch's default init.
# 3. **Dying ReLU.** The ReLU net at several learning rates: the share of hidden units that never
#    fire on the test set.

# %%
import torch
from torch import nn

from gradbook import data, probes
from gradbook.chapter import Chapter
from gradbook.nets import MLP, make_activation
from gradbook.plot import color
from gradbook.train import NonFiniteError, accuracy, fit

ch = Chapter.start(__file__)
cfg = ch.config

# %% [markdown]
# ## 1. Gradient at initialisation
#
# One forward and one backward pass per activation. All five nets start from the same random
# weights (the generator is reseeded before each), so they differ only in their nonlinearity.
# `grad_norms_at` uses loss = sum of outputs, so $\partial L / \partial \text{output} = 1$ everywhere
# and what reaches layer $l$ is the product of the Jacobians in between.

# %%
x_probe = data.gaussian_batch(cfg["init_probe_batch"], cfg["init_probe_inputs"], seed=cfg["seed"])
grad_norms: dict[str, list[float]] = {}
for act in cfg["init_probe_activations"]:
    torch.manual_seed(cfg["seed"])
    net = MLP.deep(
        cfg["init_probe_inputs"],
        cfg["init_probe_width"],
        cfg["init_probe_depth"],
        cfg["init_probe_outputs"],
        activation=act,
        init=cfg["init_probe_init"],
    )
    grad_norms[act] = list(probes.grad_norms_at(net, x_probe).values())

ch.results["grad_norm_per_layer"] = grad_norms
ch.results["grad_ratio_first_last"] = {a: g[0] / g[-1] for a, g in grad_norms.items()}
ch.results["grad_ratio_first_last"]

# %% [markdown]
# ## 2. Training on the digits
#
# `train` builds the 8-layer net, trains it with `fit` (plain SGD, the same minibatch order for
# every run) and returns the test accuracy and the training-loss curve. For the sigmoid net with its
# matched init we also record, at every checkpoint, each hidden layer's mean activation and its
# spread: the standard deviation of a unit's output across the training images, averaged over the
# units. Glorot & Bengio (2010) saw the top sigmoid layer saturate; we look at what happens here.

# %%
digits = data.digits(seed=cfg["seed"])


def train(act: str, init: str | None, lr: float, watch: dict | None = None) -> tuple[MLP, dict]:
    torch.manual_seed(cfg["seed"])
    net = MLP.deep(
        digits.n_features, cfg["width"], cfg["depth"], digits.n_classes, activation=act, init=init
    )

    def on_step(step: int, model: nn.Module) -> None:
        if watch is not None and step % cfg["log_every"] == 0:
            with probes.activations(model) as a, torch.no_grad():
                model(digits.x_train)
            for name, stats in a.post.items():
                watch.setdefault("mean", {}).setdefault(name, []).append(stats.mean)
                watch.setdefault("spread", {}).setdefault(name, []).append(stats.spread)

    history = fit(
        net,
        digits.x_train,
        digits.y_train,
        steps=cfg["steps"],
        lr=lr,
        batch_size=cfg["batch_size"],
        log_every=cfg["log_every"],
        seed=cfg["seed"],
        on_step=on_step,
    )
    acc = accuracy(net, digits.x_test, digits.y_test)
    return net, {"test_acc": acc, "curve": history.train_loss, "steps": history.steps}


sigmoid_watch: dict[str, dict[str, list[float]]] = {}
matched = {
    act: train(
        act, cfg["matched_init"][act], cfg["lr"], sigmoid_watch if act == "sigmoid" else None
    )[1]
    for act in cfg["train_activations"]
}
default = {act: train(act, None, cfg["lr"])[1] for act in cfg["train_activations"]}

ch.results["test_acc"] = {a: r["test_acc"] for a, r in matched.items()}
ch.results["train_loss_curve"] = {a: r["curve"] for a, r in matched.items()}
ch.results["train_loss_steps"] = matched["relu"]["steps"]
ch.results["test_acc_default_init"] = {a: r["test_acc"] for a, r in default.items()}
ch.results["train_loss_curve_default_init"] = {a: r["curve"] for a, r in default.items()}
ch.results["sigmoid_mean_activation"] = sigmoid_watch["mean"]
ch.results["sigmoid_activation_spread"] = sigmoid_watch["spread"]
ch.results["sigmoid_spread_first_last"] = [
    sigmoid_watch["spread"]["hidden1"][-1],
    sigmoid_watch["spread"][f"hidden{cfg['depth']}"][-1],
]
ch.results["test_acc"], ch.results["test_acc_default_init"]

# %% [markdown]
# ## 3. Dying ReLU
#
# A unit is dead on the test set when its output is 0 for every test image: its gradient is then 0
# for those inputs too, so nothing pushes it back. We count dead units over all hidden layers after
# the same training budget at each learning rate, and before training as a baseline. A run that
# blows up to NaN would raise `NonFiniteError`; we record it rather than hide it.


# %%
def dead_share(net: MLP) -> tuple[float, list[float]]:
    per_layer = probes.dead_fraction(net, digits.x_test)
    return sum(per_layer.values()) / len(per_layer), list(per_layer.values())


torch.manual_seed(cfg["seed"])
fresh = MLP.deep(
    digits.n_features,
    cfg["width"],
    cfg["depth"],
    digits.n_classes,
    init=cfg["matched_init"]["relu"],
)
ch.results["dead_relu_fraction_init"] = dead_share(fresh)[0]

dead, dead_layers, dead_acc = {}, {}, {}
for lr in cfg["dead_relu_lrs"]:
    key = f"{lr:g}"
    try:
        net, run = train("relu", cfg["matched_init"]["relu"], lr)
    except NonFiniteError as err:
        dead[key], dead_layers[key], dead_acc[key] = None, None, str(err)
        continue
    dead[key], dead_layers[key] = dead_share(net)
    dead_acc[key] = run["test_acc"]
ch.results["dead_relu_fraction"] = dead
ch.results["dead_relu_fraction_per_layer"] = dead_layers
ch.results["dead_relu_test_acc"] = dead_acc
ch.results["dead_relu_fraction"]

# %% [markdown]
# ## Figures


# %%
def draw_activations(fig, tr):
    z = torch.linspace(-5, 5, 401, requires_grad=True)
    left, right = fig.subplots(1, 2)
    for i, act in enumerate(["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]):
        f = make_activation(act, 1)
        y = f(z)
        (dy,) = torch.autograd.grad(y.sum(), z)
        style = "--" if act in ("leaky_relu", "elu") else "-"
        kw = {"color": color(act, i), "linewidth": 1.6, "label": act, "linestyle": style}
        left.plot(z.detach(), y.detach(), **kw)
        right.plot(z.detach(), dy, **kw)
    left.set_ylim(-1.5, 3)
    left.set_title(tr("activation f(z)", "激活函数 f(z)"))
    right.set_title(tr("derivative f'(z)", "导数 f'(z)"))
    right.axhline(0.25, color="#999999", linestyle=":", linewidth=1)
    for ax in (left, right):
        ax.set_xlabel("z")
    right.legend(fontsize=8)


def draw_grad_norms(fig, tr):
    ax = fig.add_subplot()
    dashed = {"leaky_relu", "elu"}  # they lie on top of relu and tanh: keep both visible
    for i, (act, g) in enumerate(grad_norms.items()):
        style = "--" if act in dashed else "-"
        ax.plot(
            range(1, len(g) + 1), g, style, marker="o", markersize=3, color=color(act, i), label=act
        )
    ax.set_yscale("log")
    ax.set_xlabel(tr("hidden layer (input → output)", "隐藏层（输入 → 输出）"))
    ax.set_ylabel(r"$\|\partial L / \partial z_l\|$")
    ax.set_title(
        tr("Gradient at the pre-activation, at initialisation", "初始化时各层预激活处的梯度范数")
    )
    ax.legend(ncols=2)


def draw_loss_curves(fig, tr):
    ax = fig.add_subplot()
    steps = ch.results["train_loss_steps"]
    for i, act in enumerate(cfg["train_activations"]):
        ax.plot(steps, matched[act]["curve"], color=color(act, i), label=f"{act}")
        ax.plot(
            steps,
            default[act]["curve"],
            color=color(act, i),
            linestyle="--",
            linewidth=1.3,
            label=tr(f"{act}, PyTorch default init", f"{act}，PyTorch 默认初始化"),
        )
    ax.set_yscale("log")
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("training loss (cross-entropy)", "训练损失（交叉熵）"))
    ax.set_title(
        tr("8 hidden layers on digits, same learning rate", "8 个隐藏层、相同学习率训练 digits")
    )
    ax.legend(fontsize=8)


def draw_sigmoid_saturation(fig, tr):
    left, right = fig.subplots(1, 2)
    steps = ch.results["train_loss_steps"][1:]
    names = list(sigmoid_watch["mean"])
    for i, name in enumerate(names):
        label = tr(f"layer {i + 1}", f"第 {i + 1} 层")
        top = (
            i == len(names) - 1
        )  # the top layer in dark grey, thick: the one Glorot & Bengio watched
        kw = {"color": "#333333" if top else color("", i), "linewidth": 2.2 if top else 1.0}
        left.plot(steps, sigmoid_watch["mean"][name], label=label, **kw)
        right.plot(steps, sigmoid_watch["spread"][name], **kw)
    left.set_ylim(0, 1)
    left.set_title(tr("mean activation", "激活值的均值"), fontsize=11)
    right.set_yscale("log")
    right.set_title(tr("spread across images", "不同图像间的标准差"), fontsize=11)
    for ax in (left, right):
        ax.set_xlabel(tr("SGD step", "SGD 步数"))
    left.legend(fontsize=7, ncols=2)
    fig.suptitle(
        tr(
            "Sigmoid net (8 layers, Xavier) during training",
            "训练中的 8 层 sigmoid 网络（Xavier 初始化）",
        )
    )


def draw_dead_relu(fig, tr):
    ax = fig.add_subplot()
    keys = [k for k, v in dead.items() if v is not None]
    labels = [tr("init", "初始化")] + keys
    values = [ch.results["dead_relu_fraction_init"]] + [dead[k] for k in keys]
    bars = ax.bar(labels, values, color=[color("plain")] + [color("relu")] * len(keys))
    for bar, k in zip(bars[1:], keys, strict=True):
        acc = dead_acc[k]
        ax.annotate(
            tr(f"acc {acc:.0%}", f"准确率 {acc:.0%}"),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xlabel(tr("learning rate", "学习率"))
    ax.set_ylabel(tr("share of dead hidden units", "死亡隐藏单元的比例"))
    ax.set_title(tr("ReLU units that never fire on the test set", "在测试集上从不激活的 ReLU 单元"))


ch.figure("activations", draw_activations, figsize=(7.0, 3.2))
ch.figure("grad_norms", draw_grad_norms)
ch.figure("loss_curves", draw_loss_curves)
ch.figure("sigmoid_saturation", draw_sigmoid_saturation, figsize=(7.0, 3.4))
ch.figure("dead_relu", draw_dead_relu)
ch.finish()
