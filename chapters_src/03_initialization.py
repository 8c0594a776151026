# %% [markdown]
# # 03 Initialisation: symmetry, scale, Xavier and He
#
# Four measurements, each over five seeds (a seed draws the initial weights, the probe inputs and
# the minibatch order; the train/test split of the digits is the same for all):
#
# 1. **Scale, forward.** Push a batch of N(0, 1) inputs through 30 ReLU layers at init and watch the
#    standard deviation of each layer's pre-activation under five schemes (He et al. 2015).
# 2. **Scale, backward.** Glorot & Bengio's (2010) measurement: the variance of the back-propagated
#    gradient per tanh layer, "standard" init vs Xavier's normalised init, with the prediction of the
#    variance argument from the measured tanh derivatives.
# 3. **Scale, training.** Train 30 ReLU layers on the digits from Xavier and from He (Kaiming) init
#    with the same plain-SGD budget (the ten nets as one batched model), and the Xavier net again
#    with Adam.
# 4. **Symmetry.** Train a one-hidden-layer net from equal weights and from random ones and count
#    how many different hidden units it ends up with.

# %%
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gradbook import data
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import PALETTE, color
from gradbook.seeds import (
    StackedMLP,
    by_seed,
    fit_seeds,
    map_leaves,
    mean,
    publish,
    sd,
    seed_accuracy,
)
from gradbook.spread import band
from gradbook.train import evaluate, fit

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
n_seeds = len(seeds)
ch.results["seeds"] = seeds
digits = data.digits(seed=ch.seed)

# %% [markdown]
# ## 1. The forward signal through 30 ReLU layers
#
# Each hidden layer multiplies the second moment of its input by `fan_in * Var(w) / 2` (the 1/2 is
# ReLU dropping the negative half). Only He's `Var(w) = 2 / fan_in` makes that factor one. No
# training here: one forward pass per scheme and seed.


# %%
def init_kwargs(scheme: str, sc: dict) -> dict:
    """Per-scheme knobs: the naive std, and the ReLU gain for the orthogonal matrix."""
    if scheme == "naive":
        return {"std": sc["naive_std"]}
    if scheme == "orthogonal":
        return {"gain": sc["orthogonal_gain"]}
    return {}


def preact_stds(scheme: str, sc: dict, seed: int) -> list[float]:
    """Std of each hidden layer's pre-activation for one batch, layer 1 first."""
    torch.manual_seed(seed)
    net = MLP.deep(
        sc["width"], sc["width"], sc["depth"], sc["width"],
        activation="relu", init=scheme, bias=False, init_kwargs=init_kwargs(scheme, sc),
    )  # fmt: skip
    h = data.gaussian_batch(sc["batch"], sc["width"], seed=seed + 1)  # its own stream of inputs
    stds = []
    with torch.no_grad():
        for name in net.hidden_names:  # the std over every entry, as probes.ActStats.std
            layer = net.layers[name]
            z = layer.linear(h)
            stds.append(float(z.double().std()))
            h = layer.act(z)
    return stds


sig = cfg["signal"]
per_seed = [{s: preact_stds(s, sig, seed) for s in sig["schemes"]} for seed in seeds]
act_std = publish(ch.results, "act_std_per_layer", per_seed)
publish(ch.results, "act_std_ratio",
        [{s: stds[-1] / stds[0] for s, stds in run.items()} for run in per_seed])  # fmt: skip
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
# He and orthogonal: how far the seeds' ratios spread (the finite-width random walk)
ch.results["act_std_ratio_range"] = {
    s: [min(v), max(v)] for s, v in ch.results["act_std_ratio_by_seed"].items()
}


def rows(per_leaf: list[list[float]]) -> list[list[float]]:
    """A `_by_seed` list over x (each a list over seeds) as rows over seeds."""
    return [list(r) for r in zip(*per_leaf, strict=True)]


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
    for s in sig["schemes"]:
        band(ax, layers, rows(ch.results["act_std_per_layer_by_seed"][s]),
             colors.get(s, color(s)), names[s])  # fmt: skip
        ax.lines[-1].set_linestyle("--" if s == "orthogonal" else "-")
    ax.set_yscale("log")
    ax.set_xlabel(tr("layer", "层"))
    ax.set_ylabel(tr("std of pre-activation", "预激活的标准差"))
    ax.set_title(tr(f"30 ReLU layers at init, width 256 ({n_seeds} seeds)",
                    f"初始化时的 30 层 ReLU 网络（宽 256，{n_seeds} 个种子）"), fontsize=11)  # fmt: skip
    ax.legend(loc="lower left", fontsize=9)


ch.figure("act_std", draw_act_std)

# %% [markdown]
# ## 2. Glorot & Bengio: variance of the back-propagated gradient
#
# With "standard" init, U(-1/sqrt(n), 1/sqrt(n)), n Var(w) = 1/3, so going down one layer divides
# the gradient's variance by about 3. Xavier's Var(w) = 2/(n_in + n_out) keeps it, if tanh' = 1.
# It is not: going down from layer l + 1 to layer l multiplies the variance by
# n_{l+1} Var(W_{l+1}) E[tanh'(z_l)^2]. We measure E[tanh'(z_l)^2] on the same pass and multiply the
# factors out: that is the variance argument's prediction, to set beside the measurement. Then the
# Xavier net once more with the inputs scaled down, where tanh stays near its linear middle.


# %%
def backprop_var(scheme: str, gl: dict, seed: int, scale: float = 1.0) -> dict[str, list[float]]:
    """At init, on the digits training set (times `scale`): Var(dLoss/dz) per hidden layer relative
    to the top one, E[tanh'(z)^2] per layer, and the variance argument's prediction of the first."""
    torch.manual_seed(seed)
    net = MLP.deep(digits.n_features, gl["width"], gl["depth"], digits.n_classes,
                   activation="tanh", init=scheme)  # fmt: skip
    zs: dict[str, torch.Tensor] = {}
    hooks = [
        module.register_forward_hook(lambda m, inp, out, n=name: zs.__setitem__(n, inp[0]))
        for name, module in net.probe_points().items()
    ]
    out = net(digits.x_train * scale)
    for z in zs.values():
        z.retain_grad()  # keep dLoss/dz of these non-leaf tensors
    F.cross_entropy(out, digits.y_train).backward()
    for h in hooks:
        h.remove()
    names = net.hidden_names
    var = [float(zs[name].grad.var()) for name in names]
    deriv_sq = [float((1 - torch.tanh(zs[name].detach()) ** 2).pow(2).mean()) for name in names]
    weights = net.layer_weights()
    gain = [float(weights[name].shape[0] * weights[name].detach().var()) for name in names[1:]]
    predicted = [1.0]  # top layer
    for e, g in zip(reversed(deriv_sq[:-1]), reversed(gain), strict=True):
        predicted.insert(0, predicted[0] * e * g)
    return {"rel": [v / var[-1] for v in var], "deriv_sq": deriv_sq, "predicted": predicted,
            "z_var": [float(zs[name].detach().var()) for name in names]}  # fmt: skip


gl = cfg["glorot"]
glorot = [{s: backprop_var(s, gl, seed) for s in gl["schemes"]} for seed in seeds]
small = [backprop_var("xavier", gl, seed, gl["small_input_scale"]) for seed in seeds]
publish(ch.results, "backprop_grad_var_rel", [{s: r[s]["rel"] for s in r} for r in glorot])
publish(ch.results, "backprop_grad_var_predicted",
        [{s: r[s]["predicted"] for s in r} for r in glorot])  # fmt: skip
publish(ch.results, "tanh_deriv_sq_mean", [{s: r[s]["deriv_sq"] for s in r} for r in glorot])
publish(ch.results, "preact_var", [{s: r[s]["z_var"] for s in r} for r in glorot])
publish(ch.results, "backprop_grad_var_rel_small_input", [{"xavier": r["rel"]} for r in small])
publish(ch.results, "tanh_deriv_sq_mean_small_input", [{"xavier": r["deriv_sq"]} for r in small])
# For comparison: E[tanh'(z)^2] for a Gaussian z of unit variance (a fine grid, float64).
grid = torch.linspace(-12, 12, 240_001, dtype=torch.float64)
density = torch.exp(-(grid**2) / 2) / math.sqrt(2 * math.pi)
ch.results["tanh_deriv_sq_gaussian_unit_var"] = float(
    ((1 - torch.tanh(grid) ** 2) ** 2 * density).sum() * (grid[1] - grid[0])
)


def draw_backprop(fig, tr):
    ax = fig.add_subplot()
    layers = list(range(1, gl["depth"] + 1))
    label = {
        "standard": tr("standard U(±1/√n)", "标准 U(±1/√n)"),
        "xavier": tr("Xavier (normalised)", "Xavier（归一化初始化）"),
    }
    measured = ch.results["backprop_grad_var_rel_by_seed"]
    for i, s in enumerate(gl["schemes"]):
        c = color(s, i + 3)
        band(ax, layers, rows(measured[s]), c, label[s])
        ax.lines[-1].set_marker("o")
        ax.plot(layers, ch.results["backprop_grad_var_predicted"][s], color=c, linestyle=":",
                linewidth=1.2)  # fmt: skip
    band(ax, layers, rows(ch.results["backprop_grad_var_rel_small_input_by_seed"]["xavier"]),
         PALETTE[2], tr(f"Xavier, inputs × {gl['small_input_scale']:g}",
                        f"Xavier，输入 × {gl['small_input_scale']:g}"))  # fmt: skip
    ax.lines[-1].set_marker("s")
    ax.plot([], [], color="#666666", linestyle=":", label=tr("prediction from measured tanh'",
                                                           "由实测 tanh' 得到的预测"))  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xlabel(tr("hidden layer (1 = nearest the input)", "隐藏层（1 = 最靠近输入）"))
    ax.set_ylabel(tr("Var(∂L/∂z) / top layer's", "Var(∂L/∂z) / 最高层"))
    ax.set_title(tr(f"tanh, 5 hidden layers, at init ({n_seeds} seeds)",
                    f"tanh，5 个隐藏层，初始化时（{n_seeds} 个种子）"), fontsize=11)  # fmt: skip
    ax.legend(fontsize=8)


ch.figure("backprop_var", draw_backprop)

# %% [markdown]
# ## 3. Training 30 ReLU layers on digits: Xavier vs He
#
# Same net, same data order per seed, same learning rate and number of steps; only the init
# differs. The five Xavier nets and the five He nets are one stack of ten. "Final loss" is the mean
# of the last `final_checkpoints` logged losses. Then the five Xavier nets again with Adam: an
# adaptive optimiser rescales each weight's step by its own gradient history, which undoes a
# per-layer gradient scale.

# %%
dt = cfg["deep_train"]


def deep_stack(schemes: list[str]) -> tuple[StackedMLP, list[int]]:
    nets, members = [], []
    for scheme in schemes:
        for seed in seeds:
            torch.manual_seed(seed)
            nets.append(MLP.deep(digits.n_features, dt["width"], dt["depth"], digits.n_classes,
                                 init=scheme))  # fmt: skip
            members.append(seed)
    return StackedMLP(nets), members


def train_deep(schemes: list[str], optimizer: str, lr: float) -> dict[str, dict]:
    model, members = deep_stack(schemes)
    hist = fit_seeds(model, digits.x_train, digits.y_train, seeds=members, steps=dt["steps"],
                     lr=lr, batch_size=dt["batch_size"], log_every=dt["log_every"],
                     optimizer=optimizer)  # fmt: skip
    losses = torch.stack(hist.train_loss)  # (checkpoints, members)
    acc = torch.tensor(seed_accuracy(model, digits.x_test, digits.y_test))
    final = losses[-dt["final_checkpoints"] :].mean(0)
    out = {}
    for j, scheme in enumerate(schemes):
        part = slice(j * n_seeds, (j + 1) * n_seeds)
        out[scheme] = {"curve": losses[:, part].T, "final": final[part], "acc": acc[part],
                       "last": losses[-1, part]}  # fmt: skip
    return out, hist.steps


sgd, steps_logged = train_deep(dt["schemes"], "sgd", dt["lr"])
adam, _ = train_deep(dt["adam_schemes"], "adam", dt["adam_lr"])


def per_seed(runs: dict[str, dict], what: str) -> list[dict]:
    return [{s: r[what][i] for s, r in runs.items()} for i in range(n_seeds)]


publish(ch.results, "final_train_loss", per_seed(sgd, "final"))
publish(ch.results, "last_logged_train_loss", per_seed(sgd, "last"))
publish(ch.results, "deep_test_acc", per_seed(sgd, "acc"))
curves = by_seed(per_seed(sgd, "curve"))
ch.results["train_loss_curve"] = {"steps": steps_logged, **map_leaves(curves, mean)}
ch.results["train_loss_curve_by_seed"] = curves
ch.results["train_loss_curve_sd"] = map_leaves(curves, sd)
publish(ch.results, "adam_final_train_loss", per_seed(adam, "final"))
publish(ch.results, "adam_test_acc", per_seed(adam, "acc"))
publish(ch.results, "adam_train_loss_curve", per_seed(adam, "curve"))
ch.results["chance_loss"] = math.log(digits.n_classes)


def draw_train_loss(fig, tr):
    ax = fig.add_subplot()
    label = {"xavier": "Xavier", "kaiming": tr("He (Kaiming)", "He（Kaiming）")}
    ax.axhline(ch.results["chance_loss"], color="#999999", linestyle=":", linewidth=1,
               label=tr("ln 10 (chance)", "ln 10（随机猜测）"))  # fmt: skip
    for s in dt["schemes"]:
        band(
            ax, steps_logged, rows(curves[s]), color(s), tr(f"{label[s]}, SGD", f"{label[s]}，SGD")
        )
    for s in dt["adam_schemes"]:
        band(ax, steps_logged, rows(ch.results["adam_train_loss_curve_by_seed"][s]), PALETTE[4],
             tr(f"{label[s]}, Adam {dt['adam_lr']:g}", f"{label[s]}，Adam {dt['adam_lr']:g}"))  # fmt: skip
        ax.lines[-1].set_linestyle("--")
    ax.set_yscale("log")
    ax.set_xlabel(tr("training step", "训练步数"))
    ax.set_ylabel(tr("training loss (cross-entropy)", "训练损失（交叉熵）"))
    ax.set_title(tr(f"30 ReLU layers on digits ({n_seeds} seeds)",
                    f"在 digits 上训练 30 层 ReLU 网络（{n_seeds} 个种子）"), fontsize=11)  # fmt: skip
    ax.legend(fontsize=8, loc="lower left")


ch.figure("train_loss", draw_train_loss)

# %% [markdown]
# ## 4. Symmetry: equal weights stay equal
#
# If every hidden unit starts with the same incoming and outgoing weights, every unit computes the
# same value and receives the same gradient, so gradient descent keeps them equal forever: in exact
# arithmetic. In floating point it holds only if every unit's sums are computed in the same order.
# `nn.Linear` on one net does that, so the constant-init nets are trained one by one with `fit`.
# Whether the batched matmul of a seed stack does depends on the machine and its math library (an
# earlier build machine rounded some output columns differently, this one does not), so we make the
# rounding error ourselves: the five constant-init nets trained as one stack, with one incoming
# weight of unit 2 moved by one float32 rounding step (`nudge`), and we follow the largest gap
# between a unit's incoming weights and unit 1's: does a rounding-sized difference stay small, or
# grow? The five random-init nets are one stack. The weight figure shows seed 0's nets: one picture
# of one net is the point there.


# %%
def distinct_rows(weight: torch.Tensor, decimals: int) -> int:
    """How many different incoming weight vectors (rows), equal to `decimals` decimals."""
    return len(torch.unique(torch.round(weight, decimals=decimals), dim=0))


sy = cfg["symmetry"]
constant_kwargs = {"value": sy["constant_value"]}


def symmetry_net(scheme: str, kwargs: dict, seed: int) -> MLP:
    torch.manual_seed(seed)
    return MLP([digits.n_features, sy["hidden"], digits.n_classes], activation=sy["activation"],
               init=scheme, init_kwargs=kwargs)  # fmt: skip


def train_stack(nets: list[MLP], on_log=None, log_every: int | None = None) -> StackedMLP:
    stack = StackedMLP(nets)
    fit_seeds(stack, digits.x_train, digits.y_train, seeds=seeds, steps=sy["steps"], lr=sy["lr"],
              batch_size=sy["batch_size"], log_every=log_every or sy["steps"], on_log=on_log)  # fmt: skip
    return stack


constant_w, constant_acc = [], []
for seed in seeds:  # one net at a time: every unit's arithmetic is the same
    net = symmetry_net("constant", constant_kwargs, seed)
    fit(net, digits.x_train, digits.y_train, steps=sy["steps"], lr=sy["lr"],
        batch_size=sy["batch_size"], log_every=sy["steps"], seed=seed)  # fmt: skip
    constant_w.append(net.layers["hidden1"].linear.weight.detach().clone())
    constant_acc.append(evaluate(net, digits.x_test, digits.y_test).accuracy)
random_stack = train_stack([symmetry_net(sy["random_init"], {}, seed) for seed in seeds])
random_w = random_stack.layer_weights()["hidden1"].detach()
random_acc = seed_accuracy(random_stack, digits.x_test, digits.y_test)
publish(ch.results, "distinct_hidden_units",
        [{"constant": distinct_rows(constant_w[i], sy["decimals"]),
          "random": distinct_rows(random_w[i], sy["decimals"])} for i in range(n_seeds)])  # fmt: skip
publish(ch.results, "symmetry_test_acc",
        [{"constant": constant_acc[i], "random": random_acc[i]} for i in range(n_seeds)])  # fmt: skip
ch.results["symmetry_hidden_width"] = sy["hidden"]

gaps: list[torch.Tensor] = []


def watch_gap(step: int, model: StackedMLP) -> None:
    w = model.layer_weights()["hidden1"].detach()  # (members, units, inputs)
    gaps.append((w - w[:, :1]).abs().amax(dim=(1, 2)))


def nudged(net: MLP) -> MLP:
    """The net with one incoming weight of hidden unit 2 moved by one rounding step (`nudge`): the
    weight from the input that varies most (some pixels of the digits are always blank)."""
    pixel = int(digits.x_train.std(dim=0).argmax())
    with torch.no_grad():
        net.layers["hidden1"].linear.weight[1, pixel] += sy["nudge"]
    return net


batched = train_stack([nudged(symmetry_net("constant", constant_kwargs, seed)) for seed in seeds],
                      watch_gap, sy["gap_every"])  # fmt: skip
batched_w = batched.layer_weights()["hidden1"].detach()
publish(ch.results, "symmetry_batched_distinct",
        [distinct_rows(batched_w[i], sy["decimals"]) for i in range(n_seeds)])  # fmt: skip
gap_curve = torch.stack(gaps, dim=1)  # (seeds, checkpoints)
publish(ch.results, "symmetry_batched_gap", gap_curve)
ch.results["symmetry_gap_steps"] = list(range(0, sy["steps"] + 1, sy["gap_every"]))
# the first checkpoint where a gap shows, and the growth per 100 steps after it (geometric mean)
gap_steps = ch.results["symmetry_gap_steps"]
assert len(gap_steps) == gap_curve.shape[1]
first_gap = [next((j for j, g in enumerate(row) if g > 0), None) for row in gap_curve.tolist()]
if all(j is not None and j < len(gap_steps) - 1 for j in first_gap):  # (a quick run may end first)
    publish(ch.results, "symmetry_gap_first",
            [row[j] for row, j in zip(gap_curve.tolist(), first_gap, strict=True)])  # fmt: skip
    publish(ch.results, "symmetry_gap_growth_per_100_steps",
            [(row[-1] / row[j]) ** (100 / (gap_steps[-1] - gap_steps[j]))
             for row, j in zip(gap_curve.tolist(), first_gap, strict=True)])  # fmt: skip
sym_weights = {"constant": constant_w[0], "random": random_w[0]}  # seed 0


def draw_symmetry(fig, tr):
    axes = fig.subplots(1, 2)
    titles = {
        "constant": tr("constant init", "常数初始化"),
        "random": tr("random init", "随机初始化"),
    }
    lim = max(float(w.abs().max()) for w in sym_weights.values())  # one scale for both panels
    for ax, key in zip(axes, sym_weights, strict=True):
        image = ax.imshow(sym_weights[key].numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim,
                          aspect="auto", interpolation="nearest")  # fmt: skip
        ax.set_title(titles[key], fontsize=10)
        ax.set_xlabel(tr("input pixel", "输入像素"))
        ax.grid(False)
    axes[0].set_ylabel(tr("hidden unit", "隐藏层神经元"))
    fig.colorbar(image, ax=list(axes), shrink=0.85, label=tr("weight", "权重"))
    fig.suptitle(tr("Incoming weights after training (seed 0)", "训练后的输入权重（种子 0）"),
                 fontsize=11)  # fmt: skip


def draw_symmetry_gap(fig, tr):
    ax = fig.add_subplot()
    steps = ch.results["symmetry_gap_steps"]
    for i, row in enumerate(rows(ch.results["symmetry_batched_gap_by_seed"])):
        kept = [(x, g) for x, g in zip(steps, row, strict=True) if g > 0]  # log axis: no zeros
        ax.plot([x for x, _ in kept], [g for _, g in kept], color=color("", i), linewidth=1.2,
                label=tr(f"seed {seeds[i]}", f"种子 {seeds[i]}"))  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("largest gap between two units' weights", "两个神经元权重之间的最大差距"),
                  fontsize=9)  # fmt: skip
    ax.set_title(tr("Constant init, one weight nudged by 2⁻²⁸, one batched model",
                    "常数初始化，一个权重挪动 2⁻²⁸，作为一个批量化模型训练"), fontsize=11)  # fmt: skip
    ax.legend(fontsize=8, loc="upper left")


ch.figure("symmetry", draw_symmetry, figsize=(5.6, 3.0))
ch.figure("symmetry_gap", draw_symmetry_gap)

# %%
ch.finish()
