# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 01 · The chain rule, and why depth multiplies
#
# This module runs the two experiments of chapter 01 and writes their figures and numbers.
#
# 1. A scalar chain of 30 multiplications, $x_{k+1} = w\,x_k$, differentiated by autograd:
#    the derivative of the output with respect to the input is $w^{30}$, which is astronomically
#    small for $w = 0.2$ and astronomically large for $w = 5$. There is nothing random in it: one
#    run is the whole answer.
# 2. A 10-hidden-layer sigmoid network trained on the digits, once per seed (5 seeds, trained
#    together as one batched model): how far each layer's weights move from where they started,
#    how large each layer's gradient is, and how much of the input still shows in each layer's
#    output. Layers near the output move; layers near the input barely do.

# %%
import torch
import torch.nn.functional as F

from gradbook import data
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import color
from gradbook.seeds import SeedHistory, StackedMLP, fit_seeds, publish, publish_tree, seed_accuracy
from gradbook.spread import band, bars

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
ch.results["seeds"] = seeds

# %% [markdown]
# ## A chain of multiplications
#
# We build the chain out of torch operations and let autograd do the differentiation, in float64
# so that $0.2^{30} \approx 10^{-21}$ is still represented exactly enough. `grads[k]` is
# $|\partial x_k / \partial x_0|$ for $k = 1..30$: each extra step multiplies it by $|w|$.


# %%
def chain_gradients(w: float, length: int) -> list[float]:
    """|d x_k / d x_0| for k = 1..length along x_{k+1} = w * x_k, by autograd."""
    x0 = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    grads, x = [], x0
    for _ in range(length):
        x = w * x
        (g,) = torch.autograd.grad(x, x0, retain_graph=True)
        grads.append(abs(float(g)))
    return grads


chain = {f"{w:g}": chain_gradients(w, cfg["chain_length"]) for w in cfg["chain_weights"]}
ch.results["chain_grad"] = {w: grads[-1] for w, grads in chain.items()}
ch.results["chain_grad_by_step"] = chain
ch.results["chain_grad"]

# %% [markdown]
# ## A deep sigmoid network: who learns?
#
# Ten hidden sigmoid layers of width 64, Xavier init, plain SGD on the standardised digits. Each
# seed draws its own initial weights and its own minibatch order; the train/test split is the same
# for all. The nets run in float64: the first layers' updates are smaller than float32 can add to a
# weight near 0.1 (we rerun in float32 below to show what that loses). We keep a copy of every
# weight matrix before training and afterwards measure the relative change
# $\lVert W_\text{end} - W_0\rVert / \lVert W_0\rVert$ per layer; `fit_seeds` records
# $\lVert \partial L / \partial W \rVert$ of every layer at every step.

# %%
dtype = getattr(torch, cfg["dtype"])
digits = data.digits(seed=cfg["seed"], dtype=dtype)


def deep_sigmoid_nets(dtype: torch.dtype) -> StackedMLP:
    """One net per seed, each exactly the net a single run with that seed would start from."""

    def build() -> MLP:
        sizes = (digits.n_features, cfg["width"], cfg["depth"], digits.n_classes)
        return MLP.deep(*sizes, activation=cfg["activation"], init=cfg["init"]).to(dtype)

    return StackedMLP.from_seeds(build, seeds)


def train(nets: StackedMLP, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], SeedHistory]:
    """Train every seed's net at once; its weights before training and its history."""
    start = {name: w.detach().clone() for name, w in nets.layer_weights().items()}
    history = fit_seeds(nets, x, digits.y_train, seeds=seeds, steps=cfg["steps"], lr=cfg["lr"],
                        batch_size=cfg["batch_size"], log_every=cfg["log_every"])  # fmt: skip
    return start, history


def per_layer(values: dict[str, torch.Tensor], names: list[str]) -> torch.Tensor:
    """(seeds, layers) from layer name -> (seeds,)."""
    return torch.stack([values[n] for n in names], dim=1)


nets = deep_sigmoid_nets(dtype)
with torch.no_grad():  # what each layer passes on before training, for the train and test images
    features_train = list(nets.layers_out(digits.x_train))[:-1]
    features_test = list(nets.layers_out(digits.x_test))[:-1]
start, history = train(nets, digits.x_train)
hidden = nets.names[:-1]
weights = nets.layer_weights()
moved = {n: (w.detach() - start[n]).norm(dim=(1, 2)) for n, w in weights.items()}
ratio = {n: moved[n] / start[n].norm(dim=(1, 2)) for n in weights}
grads = history.weight_grad_norm  # layer -> (steps, seeds)

publish(ch.results, "layer_update_ratio", per_layer(ratio, hidden))
publish(ch.results, "layer_update_ratio_output", ratio["output"])
publish(ch.results, "weight_grad_norm_mean", per_layer({n: g.mean(0) for n, g in grads.items()},
                                                       nets.names))  # fmt: skip
publish(ch.results, "update_ratio_first_over_last", ratio[hidden[0]] / ratio[hidden[-1]])
publish(ch.results, "train_loss_curve", torch.stack(history.train_loss).T)
ch.results["train_loss_steps"] = history.steps
publish(ch.results, "test_acc", seed_accuracy(nets, digits.x_test, digits.y_test))
final = torch.stack(history.train_loss[-cfg["final_checkpoints"] :]).mean(0)
publish(ch.results, "final_train_loss", final)
ch.results["layer_update_ratio"]

# %% [markdown]
# ## Two measures of "layer 1 learns less", and why they disagree
#
# The gradient norm falls by about the same factor at every layer: the 9th root of layer 1's mean
# gradient norm over layer 10's is that factor. The update ratio falls less steeply over the first
# layers, because a weight's displacement depends on whether its steps agree in direction. The
# *coherence* $\lVert W_\text{end} - W_0\rVert / (\text{lr} \sum_t \lVert g_t\rVert)$ is 1 when
# every step points the same way and near 0 when the steps are noise that cancels.

# %%
grad_first_over_last = grads[hidden[0]].mean(0) / grads[hidden[-1]].mean(0)
publish(ch.results, "grad_norm_first_over_last", grad_first_over_last)
publish(ch.results, "grad_factor_per_layer", grad_first_over_last ** (1 / (len(hidden) - 1)))
coherence = {n: moved[n] / (cfg["lr"] * grads[n].sum(0)) for n in hidden}
publish(ch.results, "update_coherence", per_layer(coherence, hidden))
ch.results["grad_factor_per_layer"]

# %% [markdown]
# ## Is the input still there? The forward signal
#
# The same product that shrinks the gradient on the way down shrinks the differences between inputs
# on the way up. For each layer at initialisation we take every unit's standard deviation across
# the training images and average over units. A linear read-out fitted by least squares to the
# standardised features of a layer (train images, tested on the test images) tells whether the
# digit can still be read from them at all, however small the differences have become. After
# training we measure the same spread of the output logits across test images.


# %%
def with_bias(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)


def probe_accuracy(train_features: torch.Tensor, test_features: torch.Tensor) -> list[float]:
    """Per seed: test accuracy of a least-squares linear read-out of the standardised features."""
    targets = F.one_hot(digits.y_train, digits.n_classes).double()
    accs = []
    for a, b in zip(train_features.double(), test_features.double(), strict=True):
        mean, std = a.mean(0), a.std(0).clamp_min(torch.finfo(a.dtype).tiny)
        readout = torch.linalg.lstsq(with_bias((a - mean) / std), targets).solution
        predicted = (with_bias((b - mean) / std) @ readout).argmax(dim=1)
        accs.append(float((predicted == digits.y_test).double().mean()))
    return accs


feature_std = torch.stack([f.std(dim=1).mean(dim=1) for f in features_train], dim=1)
publish(ch.results, "feature_std_init", feature_std)
shrink = feature_std[:, -1] / feature_std[:, 0]
publish(ch.results, "feature_factor_per_layer", shrink ** (1 / (len(hidden) - 1)))
probe = {
    str(k): probe_accuracy(features_train[k - 1], features_test[k - 1]) for k in cfg["probe_layers"]
}
publish_tree(ch.results, "probe_acc_init", probe)
with torch.no_grad():
    logits = nets(digits.x_test)
publish(ch.results, "logit_std_end", logits.std(dim=1).mean(dim=1))
ch.results["feature_std_init"]

# %% [markdown]
# ## The same run in float32
#
# Layer 1's steps are around $10^{-9}$ per weight (root mean square), below half the spacing of
# float32 numbers near 0.1 ($2^{-27} \approx 7.5 \times 10^{-9}$): a step that small is rounded
# away. We rerun the seeds in float32 and count, in layer 1, the share of weights that moved at all.

# %%
entries = weights[hidden[0]][0].numel()
publish(ch.results, "first_layer_step_rms", cfg["lr"] * grads[hidden[0]].mean(0) / entries**0.5)
nets32 = deep_sigmoid_nets(torch.float32)
start32, _ = train(nets32, digits.x_train.float())
weights32 = nets32.layer_weights()
ratio32 = {n: (w.detach() - start32[n]).norm(dim=(1, 2)) / start32[n].norm(dim=(1, 2))
           for n, w in weights32.items()}  # fmt: skip
publish(ch.results, "layer_update_ratio_float32", per_layer(ratio32, hidden))
changed = {
    "float64": (weights[hidden[0]].detach() != start[hidden[0]]).double().mean(dim=(1, 2)),
    "float32": (weights32[hidden[0]].detach() != start32[hidden[0]]).double().mean(dim=(1, 2)),
}
publish_tree(ch.results, "first_layer_weights_changed", changed)
ch.results["first_layer_weights_changed"]

# %% [markdown]
# ## Figures
#
# Each figure is drawn once per language from the same numbers; `tr(english, chinese)` picks the
# label. Curves and bars are the mean over seeds; bands and error bars span the seeds' range.


# %%
def by_seed_rows(key: str) -> list[list[float]]:
    """A per-layer result as rows over seeds (seeds first), for the spread helpers."""
    return [list(row) for row in zip(*ch.results[f"{key}_by_seed"], strict=True)]


def layer_labels(tr, n: int, output: bool) -> list[str]:
    return [str(i) for i in range(1, n + 1)] + ([tr("out", "输出")] if output else [])


def draw_chain(fig, tr):
    ax = fig.add_subplot()
    steps = range(1, cfg["chain_length"] + 1)
    for i, (w, grads) in enumerate(chain.items()):
        ax.plot(steps, grads, marker="o", markersize=3, color=color("", i), label=f"w = {w}")
    ax.set_yscale("log")
    ax.set_xlabel(tr("number of multiplications k", "乘法次数 k"))
    ax.set_ylabel(r"$|\partial x_k / \partial x_0|$")
    ax.set_title(
        tr("A chain of k multiplications: gradient $= w^k$", "k 次连乘：梯度等于 w 的 k 次方")
    )
    ax.legend()


def draw_update_ratio(fig, tr):
    ax = fig.add_subplot()
    rows = by_seed_rows("layer_update_ratio")
    output = ch.results["layer_update_ratio_output_by_seed"]
    per_seed = [row + [out] for row, out in zip(rows, output, strict=True)]
    bars(ax, layer_labels(tr, len(hidden), output=True), per_seed, color("sigmoid"))
    ax.set_yscale("log")
    ax.set_xlabel(tr("layer (input → output)", "层（输入 → 输出）"))
    ax.set_ylabel(r"$\|W_{end} - W_0\| \,/\, \|W_0\|$")
    ax.set_title(
        tr(
            f"Relative weight change after {cfg['steps']} SGD steps ({len(seeds)} seeds)",
            f"训练 {cfg['steps']} 步后各层权重的相对变化（{len(seeds)} 个种子）",
        ),
        fontsize=11,
    )


def draw_weight_grads(fig, tr):
    ax = fig.add_subplot()
    steps = range(1, cfg["steps"] + 1)
    for i in cfg["plotted_layers"]:
        name = hidden[i - 1]
        label = tr(f"hidden layer {i}", f"隐藏层 {i}")
        band(ax, steps, grads[name].T.tolist(), color("", cfg["plotted_layers"].index(i)), label)
    ax.set_yscale("log")
    ax.set_xlabel(tr("training step", "训练步数"))
    ax.set_ylabel(r"$\|\partial L / \partial W\|$")
    ax.set_title(tr(f"Weight gradient norm during training ({len(seeds)} seeds)",
                    f"训练过程中各层权重梯度的范数（{len(seeds)} 个种子）"))  # fmt: skip
    fig.legend(ncols=3, loc="outside lower center", fontsize=9)


def draw_feature_std(fig, tr):
    ax = fig.add_subplot()
    bars(ax, layer_labels(tr, len(hidden), output=False), by_seed_rows("feature_std_init"),
         color("sigmoid"))  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel(tr("hidden layer (input → output)", "隐藏层（输入 → 输出）"))
    ax.set_ylabel(tr("std across images", "不同图像间的标准差"))
    ax.set_title(tr("How much a layer's output varies with the input, at init",
                    "初始化时各层输出随输入变化的幅度"), fontsize=11)  # fmt: skip


ch.figure("chain_grad", draw_chain)
ch.figure("update_ratio", draw_update_ratio)
ch.figure("weight_grad_norms", draw_weight_grads)
ch.figure("feature_std", draw_feature_std)
ch.finish()
