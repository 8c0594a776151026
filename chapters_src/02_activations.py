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
# Three experiments, each over five seeds (a seed draws the initial weights, the probe inputs and
# the minibatch order; the train/test split of the digits is the same for all):
#
# 1. **Gradient at initialisation.** Ten hidden layers of width 256, weights drawn from
#    $\mathcal N(0, 1/\text{fan\_in})$, zero biases, a batch of 256 standard normal inputs and the loss
#    "sum of the outputs". The `grad_norms` probe reads $\lVert\partial L/\partial z_l\rVert$, the
#    gradient at each layer's pre-activation, for five activations.
# 2. **Training.** Eight hidden layers of width 64 on the digits with plain SGD and one learning rate
#    for every activation, each with its matched init (Xavier for sigmoid and tanh, He for ReLU),
#    then again with PyTorch's default init. The five seeds of a configuration train together as one
#    batched model (`gradbook.seeds`).
# 3. **Dying ReLU.** The ReLU net at several learning rates (all rates and seeds in one batched
#    model): the share of hidden units that never fire, on the training set (where "dead" means "no
#    gradient") and on the test set. Leaky ReLU and ELU nets at the same rates are the control.

# %%
import math
import statistics

import torch

from gradbook import data, probes
from gradbook.chapter import Chapter
from gradbook.nets import MLP, make_activation
from gradbook.plot import color
from gradbook.seeds import StackedMLP, by_seed, fit_seeds, map_leaves, publish, seed_accuracy
from gradbook.spread import band

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
ch.results["seeds"] = seeds

#: how the figures name the activations (the text uses the same names)
NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU",
         "elu": "ELU", "softplus": "softplus"}  # fmt: skip

# %% [markdown]
# ## 1. Gradient at initialisation
#
# One forward and one backward pass per activation and seed. For a given seed all five nets start
# from the same random weights (the generator is reseeded before each), so they differ only in their
# nonlinearity. `grad_norms_at` uses loss = sum of outputs, so $\partial L / \partial \text{output}
# = 1$ everywhere and what reaches layer $l$ is the product of the Jacobians in between.


# %%
def grad_at_init(act: str, seed: int) -> list[float]:
    torch.manual_seed(seed)
    net = MLP.deep(cfg["init_probe_inputs"], cfg["init_probe_width"], cfg["init_probe_depth"],
                   cfg["init_probe_outputs"], activation=act, init=cfg["init_probe_init"])  # fmt: skip
    x = data.gaussian_batch(cfg["init_probe_batch"], cfg["init_probe_inputs"], seed=seed)
    return list(probes.grad_norms_at(net, x).values())


per_seed = [{a: grad_at_init(a, s) for a in cfg["init_probe_activations"]} for s in seeds]
grad_norms = publish(ch.results, "grad_norm_per_layer", per_seed)
publish(ch.results, "grad_ratio_first_last",
        [{a: g[0] / g[-1] for a, g in run.items()} for run in per_seed])  # fmt: skip
# the per-layer factor: the (depth - 1)-th root of the ratio, per seed
publish(ch.results, "grad_factor_per_layer",
        [{a: (g[0] / g[-1]) ** (1 / (len(g) - 1)) for a, g in run.items()} for run in per_seed])  # fmt: skip
ch.results["relu_ratio_theory"] = 2 ** (-(cfg["init_probe_depth"] - 1) / 2)
ch.results["grad_ratio_first_last"]

# %% [markdown]
# ## 2. Training on the digits
#
# Every training run of the chapter is a member of a stack: one stack per activation, in which each
# group of five members is one configuration (an init and a learning rate) over the five seeds. A
# seed's net in one group starts from the weights a single run with that seed would start from, and
# draws that run's minibatches. For the sigmoid net with its matched init we also record, at every
# checkpoint, each hidden layer's mean activation and its spread: the standard deviation of a unit's
# output across the training images, averaged over the units. Glorot & Bengio (2010) saw the top
# sigmoid layer saturate; we look at what happens here. "Final loss" is the mean of the last
# `final_checkpoints` logged losses, not the last point of a noisy curve.

# %%
digits = data.digits(seed=cfg["seed"])
n = len(seeds)


def build(act: str, init: str | None) -> MLP:
    return MLP.deep(digits.n_features, cfg["width"], cfg["depth"], digits.n_classes,
                    activation=act, init=init)  # fmt: skip


def hidden_outputs(model: StackedMLP, x: torch.Tensor) -> list[torch.Tensor]:
    """Each hidden layer's output, (members, images, units)."""
    with torch.no_grad():
        return list(model.layers_out(x))[:-1]


def never_fire(outs: list[torch.Tensor]) -> torch.Tensor:
    """Per member and hidden layer, the share of units with output <= 0 on every row: (members, layers)."""
    return torch.stack([(h <= 0).all(dim=1).double().mean(dim=1) for h in outs], dim=1)


def run(act: str, groups: list[tuple[str | None, float]], on_log=None) -> list[dict]:
    """Train one stack: a group of `n` members (the seeds) per (init, lr); results per group."""
    nets, members, rates = [], [], []
    for init, lr in groups:
        for seed in seeds:
            torch.manual_seed(seed)
            nets.append(build(act, init))
            members.append(seed)
            rates.append(lr)
    model = StackedMLP(nets)
    before = {
        x: never_fire(hidden_outputs(model, getattr(digits, f"x_{x}"))) for x in ("train", "test")
    }
    hist = fit_seeds(model, digits.x_train, digits.y_train, seeds=members, steps=cfg["steps"],
                     lr=rates, batch_size=cfg["batch_size"], log_every=cfg["log_every"],
                     on_log=on_log)  # fmt: skip
    losses = torch.stack(hist.train_loss)  # (checkpoints, members)
    out = {"before_train": before["train"], "before_test": before["test"],
           "curve": losses.T, "final": losses[-cfg["final_checkpoints"] :].mean(0),
           "finite": losses.isfinite().all(dim=0),
           "acc": torch.tensor(seed_accuracy(model, digits.x_test, digits.y_test)),
           "train": never_fire(hidden_outputs(model, digits.x_train)),
           "test": never_fire(hidden_outputs(model, digits.x_test))}  # fmt: skip
    return [{k: v[g * n : (g + 1) * n] for k, v in out.items()} for g in range(len(groups))]


watch: dict[str, list[torch.Tensor]] = {"mean": [], "spread": []}


def watch_sigmoid(step: int, model: StackedMLP) -> None:
    outs = hidden_outputs(model, digits.x_train)  # members 0..n-1: matched init; then default init
    watch["mean"].append(
        torch.stack([h.mean(dim=(1, 2)) for h in outs], dim=1)
    )  # (members, layers)
    watch["spread"].append(torch.stack([h.std(dim=1).mean(dim=1) for h in outs], dim=1))


dead_curve: list[torch.Tensor] = []


def watch_dead(step: int, model: StackedMLP) -> None:
    dead_curve.append(never_fire(hidden_outputs(model, digits.x_train)).mean(dim=1))


acts = cfg["train_activations"]
lrs = cfg["dead_relu_lrs"]
keys = [f"{lr:g}" for lr in lrs]
matched, default = {}, {}
for act in ("sigmoid", "tanh"):
    matched[act], default[act] = run(act, [(cfg["matched_init"][act], cfg["lr"]), (None, cfg["lr"])],
                                     watch_sigmoid if act == "sigmoid" else None)  # fmt: skip
# ReLU: the learning-rate sweep of experiment 3 (He init) and the default-init run in one stack
*sweep, default["relu"] = run("relu", [(cfg["matched_init"]["relu"], lr) for lr in lrs]
                              + [(None, cfg["lr"])], watch_dead)  # fmt: skip
matched["relu"] = sweep[lrs.index(cfg["lr"])]
steps_logged = list(range(0, cfg["steps"], cfg["log_every"])) + [cfg["steps"]]  # as fit_seeds logs
assert len(steps_logged) == matched["relu"]["curve"].shape[1]


def per_seed_dicts(runs: dict[str, dict[str, torch.Tensor]], what: str) -> list[dict]:
    return [{a: runs[a][what][i] for a in acts} for i in range(n)]


publish(ch.results, "test_acc", per_seed_dicts(matched, "acc"))
publish(ch.results, "train_loss_curve", per_seed_dicts(matched, "curve"))
ch.results["train_loss_steps"] = steps_logged
publish(ch.results, "test_acc_default_init", per_seed_dicts(default, "acc"))
publish(ch.results, "train_loss_curve_default_init", per_seed_dicts(default, "curve"))
publish(ch.results, "final_train_loss", per_seed_dicts(matched, "final"))
publish(ch.results, "final_train_loss_default_init", per_seed_dicts(default, "final"))
ch.results["chance_loss"] = math.log(digits.n_classes)

hidden = [f"hidden{i + 1}" for i in range(cfg["depth"])]
mean_all = torch.stack(watch["mean"], dim=2)  # (members, layers, checkpoints)
mean_act, mean_default = mean_all[:n], mean_all[n:]
spread = torch.stack(watch["spread"], dim=2)[:n]
publish(ch.results, "sigmoid_mean_activation",
        [{name: m[i] for i, name in enumerate(hidden)} for m in mean_act])  # fmt: skip
publish(ch.results, "sigmoid_activation_spread",
        [{name: s[i] for i, name in enumerate(hidden)} for s in spread])  # fmt: skip
publish(ch.results, "sigmoid_spread_first_last", spread[:, [0, -1], -1])
publish(ch.results, "sigmoid_spread_per_layer",
        [{"init": s[:, 0], "end": s[:, -1]} for s in spread])  # fmt: skip
publish(ch.results, "sigmoid_mean_per_layer",
        [{"init": m[:, 0], "end": m[:, -1]} for m in mean_act])  # fmt: skip
# PyTorch's default init is Glorot & Bengio's "standard" U(-1/sqrt(n), 1/sqrt(n)) for the weights
# (its biases are drawn from the same range, theirs were zero): does their top layer saturate here?
publish(ch.results, "sigmoid_mean_per_layer_default_init",
        [{"init": m[:, 0], "end": m[:, -1]} for m in mean_default])  # fmt: skip
ch.results["test_acc"], ch.results["test_acc_default_init"]

# %% [markdown]
# ## 3. Dying ReLU
#
# A unit is dead when its output is 0 for every training image: its gradient is then 0 for every
# example it will be trained on, so nothing pushes it back. We count dead units over all hidden
# layers after the same budget at each learning rate (the sweep trained above), and before training
# as a baseline, on the training set and, for comparison, on the test set (fewer images, so more
# units look dead). The share on the training set is also recorded at every checkpoint, to see when
# units die. A member whose loss became NaN or inf diverged: we count those and leave them out of the
# dead-unit means (their `_by_seed` entry is None). The same sweep with leaky ReLU and ELU, whose
# units cannot die, is the control at the two largest rates.


# %%
def finite_mean(xs: list[float]) -> float | None:
    kept = [x for x in xs if math.isfinite(x)]
    return math.fsum(kept) / len(kept) if kept else None


def finite_sd(xs: list[float]) -> float | None:
    kept = [x for x in xs if math.isfinite(x)]
    return statistics.stdev(kept) if len(kept) > 1 else None


def publish_survivors(key: str, groups: list[dict], what: str, names: list[str]) -> None:
    """Like `publish` over groups keyed by `names`, for a sweep in which some members diverged: a
    diverged member's value is None in `_by_seed`, mean and sd are over the members that did not."""
    per_seed = []
    for i in range(n):
        row = {}
        for name, g in zip(names, groups, strict=True):
            v = g[what][i].double()
            row[name] = v if bool(g["finite"][i]) else torch.full_like(v, torch.nan)
        per_seed.append(row)
    tree = by_seed(per_seed)
    ch.results[key] = map_leaves(tree, finite_mean)
    ch.results[f"{key}_by_seed"] = map_leaves(tree, lambda xs: [x if math.isfinite(x) else None
                                                                for x in xs])  # fmt: skip
    ch.results[f"{key}_sd"] = map_leaves(tree, finite_sd)


def diverged(groups: list[dict], names: list[str]) -> dict[str, int]:
    return {name: int((~g["finite"]).sum()) for name, g in zip(names, groups, strict=True)}


first = sweep[0]  # before training, every group holds the same five nets
publish(ch.results, "dead_relu_fraction_init", first["before_test"].mean(dim=1))
publish(ch.results, "dead_relu_fraction_init_train", first["before_train"].mean(dim=1))
publish(ch.results, "dead_relu_fraction_init_per_layer_train", first["before_train"])
ch.results["dead_relu_diverged"] = diverged(sweep, keys)
for g in sweep:
    g["test_all"], g["train_all"] = g["test"].mean(dim=1), g["train"].mean(dim=1)
publish_survivors("dead_relu_fraction", sweep, "test_all", keys)
publish_survivors("dead_relu_fraction_train", sweep, "train_all", keys)
publish_survivors("dead_relu_fraction_per_layer", sweep, "test", keys)
publish_survivors("dead_relu_fraction_per_layer_train", sweep, "train", keys)
publish_survivors("dead_relu_test_acc", sweep, "acc", keys)
publish_survivors("dead_relu_final_train_loss", sweep, "final", keys)
curve = torch.stack(dead_curve, dim=1)  # (members, checkpoints)
for j, g in enumerate(sweep):
    g["dead_curve"] = curve[j * n : (j + 1) * n]
publish_survivors("dead_relu_fraction_train_curve", sweep, "dead_curve", keys)

control_lrs = cfg["control_lrs"]
control_keys = [f"{lr:g}" for lr in control_lrs]
ch.results["control_diverged"] = {}
for act in cfg["control_activations"]:
    groups = run(act, [(cfg["matched_init"]["relu"], lr) for lr in control_lrs])
    ch.results["control_diverged"][act] = diverged(groups, control_keys)
    publish_survivors(f"control_test_acc_{act}", groups, "acc", control_keys)
ch.results["dead_relu_fraction_train"], ch.results["dead_relu_diverged"]

# %% [markdown]
# ## Figures
#
# Lines and bars are the mean over the five seeds; bands and error bars span the lowest to the
# highest seed. The activation functions themselves are deterministic: one curve each.


# %%
def rows(key: str) -> list[list[float]]:
    """A per-layer (or per-checkpoint) `_by_seed` list, as rows over seeds."""
    return [list(r) for r in zip(*key, strict=True)]


def draw_activations(fig, tr):
    z = torch.linspace(-5, 5, 401, requires_grad=True)
    left, right = fig.subplots(1, 2)
    for i, act in enumerate(["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]):
        f = make_activation(act, 1)
        y = f(z)
        (dy,) = torch.autograd.grad(y.sum(), z)
        style = "--" if act in ("leaky_relu", "elu") else "-"
        kw = {"color": color(act, i), "linewidth": 1.6, "label": NAMES[act], "linestyle": style}
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
    by_seed = ch.results["grad_norm_per_layer_by_seed"]
    for i, act in enumerate(cfg["init_probe_activations"]):
        layers = list(range(1, len(grad_norms[act]) + 1))
        band(ax, layers, rows(by_seed[act]), color(act, i), NAMES[act])
        ax.lines[-1].set_linestyle("--" if act in dashed else "-")
        ax.lines[-1].set_marker("o")
        ax.lines[-1].set_markersize(3)
    ax.set_yscale("log")
    ax.set_xlabel(tr("hidden layer (input → output)", "隐藏层（输入 → 输出）"))
    ax.set_ylabel(r"$\|\partial L / \partial z_l\|$")
    ax.set_title(tr(f"Gradient at the pre-activation, at initialisation ({len(seeds)} seeds)",
                    f"初始化时各层预激活处的梯度范数（{len(seeds)} 个种子）"), fontsize=11)  # fmt: skip
    ax.legend(ncols=2)


def draw_loss_curves(fig, tr):
    axes = fig.subplots(1, 2, sharey=True)
    steps = ch.results["train_loss_steps"]
    panels = [("train_loss_curve_by_seed", tr("matched init", "匹配的初始化")),
              ("train_loss_curve_default_init_by_seed", tr("PyTorch default init",
                                                           "PyTorch 默认初始化"))]  # fmt: skip
    for ax, (key, title) in zip(axes, panels, strict=True):
        ax.axhline(ch.results["chance_loss"], color="#999999", linestyle=":", linewidth=1,
                   label=tr("ln 10 (chance)", "ln 10（随机猜测）"))  # fmt: skip
        for i, act in enumerate(acts):
            band(ax, steps, rows(ch.results[key][act]), color(act, i), NAMES[act])
            if (
                act == "relu"
            ):  # dashed and wider: visible where it lies on the stalled sigmoid curve
                ax.lines[-1].set_linestyle("--")
                ax.lines[-1].set_linewidth(2.0)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(tr("SGD step", "SGD 步数"))
    axes[0].set_ylabel(tr("training loss (cross-entropy)", "训练损失（交叉熵）"))
    axes[1].legend(fontsize=8, loc="lower left")
    fig.suptitle(tr(f"8 hidden layers on digits, same learning rate ({len(seeds)} seeds)",
                    f"8 个隐藏层，相同学习率，在 digits 上训练（{len(seeds)} 个种子）"),
                 fontsize=11)  # fmt: skip


def draw_sigmoid_layers(fig, tr):
    left, right = fig.subplots(1, 2)
    layers = list(range(1, cfg["depth"] + 1))
    when = {"init": (tr("at init", "初始化时"), "#999999"),
            "end": (tr(f"after {cfg['steps']} steps", f"训练 {cfg['steps']} 步后"),
                    color("sigmoid"))}  # fmt: skip
    for key, (label, c) in when.items():
        width = 3.0 if key == "init" else 1.2  # init wide and grey underneath: visible where equal
        band(left, layers, rows(ch.results["sigmoid_mean_per_layer_by_seed"][key]), c, label, width)
        band(right, layers, rows(ch.results["sigmoid_spread_per_layer_by_seed"][key]), c, label,
             width)  # fmt: skip
        for ax in (left, right):
            ax.lines[-1].set_marker("o")
            ax.lines[-1].set_markersize(3)
    left.set_ylim(0, 1)
    left.set_title(tr("mean output", "输出的均值"), fontsize=11)
    right.set_yscale("log")
    right.set_title(tr("spread across images", "不同图像间的标准差"), fontsize=11)
    for ax in (left, right):
        ax.set_xlabel(tr("hidden layer", "隐藏层"))
        ax.set_xticks(layers)
    left.legend(fontsize=8, loc="lower left")
    fig.suptitle(tr(f"Sigmoid net (8 layers, Xavier), per layer ({len(seeds)} seeds)",
                    f"8 层 sigmoid 网络（Xavier 初始化）的各层输出（{len(seeds)} 个种子）"),
                 fontsize=11)  # fmt: skip


def draw_dead_relu(fig, tr):
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    init = ch.results["dead_relu_fraction_init_train_by_seed"]
    after = ch.results["dead_relu_fraction_train_by_seed"]
    labels = [tr("before", "训练前")] + keys
    columns = [init] + [
        [v for v in after[k] if v is not None] for k in keys
    ]  # diverged seeds left out
    mean = [statistics.fmean(c) for c in columns]
    low = [m - min(c) for m, c in zip(mean, columns, strict=True)]
    high = [max(c) - m for m, c in zip(mean, columns, strict=True)]
    left.bar(labels, mean, color=[color("plain")] + [color("relu")] * len(keys))
    left.errorbar(labels, mean, yerr=[low, high], fmt="none", ecolor="#333333", elinewidth=1.0,
                  capsize=3)  # fmt: skip
    accs = ch.results["dead_relu_test_acc"]
    for j, k in enumerate(keys, start=1):
        note = f"{accs[k]:.0%}"
        if ch.results["dead_relu_diverged"][k]:
            gone = ch.results["dead_relu_diverged"][k]
            note += tr(f"\n{gone} of {n} diverged", f"\n{gone}/{n} 个发散")
        left.annotate(note, (j, mean[j] + high[j]), ha="center", va="bottom", fontsize=7,
                      xytext=(0, 2), textcoords="offset points")  # fmt: skip
    left.set_ylim(0, max(m + h for m, h in zip(mean, high, strict=True)) * 1.35)
    left.set_xlabel(tr("learning rate (label: test accuracy)", "学习率（标注：测试准确率）"),
                    fontsize=9)  # fmt: skip
    left.set_ylabel(tr("share of dead hidden units", "死亡隐藏神经元的比例"))
    left.set_title(tr("after training", "训练结束时"), fontsize=10)
    steps = ch.results["train_loss_steps"]
    curves = ch.results["dead_relu_fraction_train_curve_by_seed"]
    for i, k in enumerate(keys):
        kept = [r for r in rows(curves[k]) if all(v is not None for v in r)]  # diverged: left out
        band(right, steps, kept, color("", i), f"lr {k}", linewidth=1.0)
    right.set_yscale("log")
    right.set_xlabel(tr("SGD step", "SGD 步数"))
    right.set_title(tr("during training (log scale)", "训练过程中（对数坐标）"), fontsize=10)
    right.legend(fontsize=7, ncols=3, loc="center right")
    fig.suptitle(tr(f"ReLU units that never fire on the training set ({len(seeds)} seeds)",
                    f"在训练集上从不激活的 ReLU 神经元（{len(seeds)} 个种子）"), fontsize=11)  # fmt: skip


ch.figure("activations", draw_activations, figsize=(7.0, 3.2))
ch.figure("grad_norms", draw_grad_norms)
ch.figure("loss_curves", draw_loss_curves, figsize=(7.0, 3.4))
ch.figure("sigmoid_saturation", draw_sigmoid_layers, figsize=(7.0, 3.4))
ch.figure("dead_relu", draw_dead_relu, figsize=(7.0, 3.4))
ch.finish()
