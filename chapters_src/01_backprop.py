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
#    small for $w = 0.2$ and astronomically large for $w = 5$.
# 2. A 10-hidden-layer sigmoid network trained on the digits: how far each layer's weights move
#    from where they started. Layers near the output move; layers near the input barely do.

# %%
import torch

from gradbook import data, probes
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import color
from gradbook.train import accuracy, fit

ch = Chapter.start(__file__)
cfg = ch.config

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
# Ten hidden sigmoid layers of width 64, Xavier init, plain SGD on the standardised digits. We keep a
# copy of every weight matrix before training and afterwards measure the relative change
# $\lVert W_\text{end} - W_0\rVert / \lVert W_0\rVert$ per layer. The `grad_norms` probe records
# $\lVert \partial L / \partial W \rVert$ of every layer at every step.

# %%
digits = data.digits(seed=cfg["seed"])
net = MLP.deep(
    digits.n_features,
    cfg["width"],
    cfg["depth"],
    digits.n_classes,
    activation=cfg["activation"],
    init=cfg["init"],
)
start = {name: w.detach().clone() for name, w in net.layer_weights().items()}
with probes.grad_norms(net) as g:
    history = fit(
        net,
        digits.x_train,
        digits.y_train,
        steps=cfg["steps"],
        lr=cfg["lr"],
        batch_size=cfg["batch_size"],
        log_every=cfg["log_every"],
        seed=cfg["seed"],
    )
ratio = {
    name: float((w.detach() - start[name]).norm() / start[name].norm())
    for name, w in net.layer_weights().items()
}
grad_hist = g.history("weight")

ch.results["layer_update_ratio"] = [ratio[n] for n in net.hidden_names]
ch.results["layer_update_ratio_output"] = ratio["output"]
ch.results["weight_grad_norm_mean"] = [sum(v) / len(v) for v in grad_hist.values()]
ch.results["update_ratio_first_over_last"] = ratio["hidden1"] / ratio[net.hidden_names[-1]]
ch.results["train_loss_curve"] = history.train_loss
ch.results["train_loss_steps"] = history.steps
ch.results["test_acc"] = accuracy(net, digits.x_test, digits.y_test)
ch.results["layer_update_ratio"]

# %% [markdown]
# ## Figures
#
# Each figure is drawn once per language from the same numbers; `tr(english, chinese)` picks the
# label.


# %%
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
    names = [*net.hidden_names, "output"]
    values = [ratio[n] for n in names]
    labels = [str(i) for i in range(1, len(names))] + [tr("out", "输出")]
    ax.bar(labels, values, color=color("sigmoid"))
    ax.set_yscale("log")
    ax.set_xlabel(tr("layer (input → output)", "层（输入 → 输出）"))
    ax.set_ylabel(r"$\|W_{end} - W_0\| \,/\, \|W_0\|$")
    ax.set_title(
        tr(
            f"Relative weight change after {cfg['steps']} SGD steps (10 sigmoid layers)",
            f"训练 {cfg['steps']} 步后各层权重的相对变化（10 层 sigmoid）",
        ),
        fontsize=11,
    )


def draw_weight_grads(fig, tr):
    ax = fig.add_subplot()
    names = list(grad_hist)
    for i in (0, 4, len(names) - 2):
        label = tr(f"hidden layer {i + 1}", f"隐藏层 {i + 1}")
        ax.plot(grad_hist[names[i]], color=color("", i), label=label, linewidth=1.2)
    ax.set_yscale("log")
    ax.set_xlabel(tr("training step", "训练步数"))
    ax.set_ylabel(r"$\|\partial L / \partial W\|$")
    ax.set_title(tr("Weight gradient norm during training", "训练过程中各层权重梯度的范数"))
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, top * 100)  # room for the legend above the curves
    ax.legend(ncols=3, loc="upper center", fontsize=9)


ch.figure("chain_grad", draw_chain)
ch.figure("update_ratio", draw_update_ratio)
ch.figure("weight_grad_norms", draw_weight_grads)
ch.finish()
