# %% [markdown]
# # 05 Residual connections
#
# Four measurements, each over five seeds (initial weights and minibatch order; the train/test split
# is the same for all):
#
# 1. **Degradation.** Plain nets of Linear-BN-ReLU layers and residual nets of two-layer blocks, 8
#    and 56 linear layers deep, width 32, He init, the same plain-SGD budget on digits. The deep
#    plain net trains worse than the shallow one: that is He et al.'s (2016a) degradation problem,
#    measured on the *training* loss, so it is not overfitting. The deep residual net does not.
#    We also look at the gradient per layer at initialisation, and delete single blocks from the
#    trained nets (Veit et al. 2016's lesion study). Width 32, not the 64 of the single-seed
#    version: five seeds of both depths at width 64 cost about 45 s of CPU time on their own.
# 2. **Shattered gradients.** Balduzzi et al.'s (2017) picture: the derivative dy/dx of a scalar net
#    over a grid of inputs turns into white noise with depth in a plain net, much more slowly in a
#    residual net. We measure its lag-1 autocorrelation by depth, for two block designs.
# 3. **Paths.** Veit et al.'s count: a net of n residual blocks unrolls into 2^n paths whose lengths
#    are binomially distributed.
# 4. **The reference ResNet-18** of `gradbook/resnet.py`, layer by layer.

# %%
from __future__ import annotations

from math import comb

import torch
import torch.nn.functional as F
from torch import nn

from gradbook import data
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import PALETTE, color
from gradbook.resnet import count_parameters, resnet18, structure
from gradbook.seeds import publish, publish_tree
from gradbook.spread import band
from gradbook.stacked import StackedNet, fit_stacked, member_loss_and_accuracy, preact_grad_norms

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
ch.results["seeds"] = seeds
digits = data.digits(seed=ch.seed)

# %% [markdown]
# ## 1. Degradation: deeper plain nets train worse
#
# `MLP(residual=True)` groups the hidden layers after the first into blocks
# h <- relu(BN(W2 relu(BN(W1 h))) + h). Counting linear layers, a net with `n` of them has `n - 1`
# hidden layers: the plain net stacks them one by one, the residual net uses one input layer and
# (n - 2) / 2 blocks. Same width, same parameter count, same data order, same steps.
#
# Five seeds of each, trained together: one batched model per depth whose members are the five
# plain nets and the five residual nets. A plain member is the residual net with the skip
# multiplied by 0, which is exactly the plain net of the same layers (and `MLP` draws the same
# initial weights with and without `residual`), so plain and residual nets of one seed start from
# the same weights and see the same minibatches.

# %%
dg = cfg["degradation"]
NETS = {  # name -> (linear layers, residual)
    "plain_shallow": (dg["shallow_layers"], False),
    "plain_deep": (dg["deep_layers"], False),
    "res_shallow": (dg["shallow_layers"], True),
    "res_deep": (dg["deep_layers"], True),
}


def build(layers: int, residual: bool = True):
    """`layers` linear layers of width dg["width"], BN in every hidden layer, He init."""
    return lambda: MLP.deep(
        digits.n_features, dg["width"], layers - 1, digits.n_classes,
        activation="relu", init=dg["init"], batch_norm=True, residual=residual, bias=dg["bias"],
    )  # fmt: skip


n = len(seeds)
members = seeds + seeds
SKIP = [0.0] * n + [1.0] * n  # members 0..n-1 plain, n..2n-1 residual
stacks = {
    depth: StackedNet.from_seeds(build(dg[f"{depth}_layers"]), members, skip=SKIP)
    for depth in ("shallow", "deep")
}


def member_rows(name: str) -> slice:
    """The members of `stacks[depth]` that are the net `name`."""
    return slice(0, n) if name.startswith("plain") else slice(n, 2 * n)


def depth_of(name: str) -> str:
    return name.split("_")[1]


grad_init = {d: preact_grad_norms(m, digits.x_train, digits.y_train) for d, m in stacks.items()}
hists = {}
for depth, model in stacks.items():
    hists[depth] = fit_stacked(model, digits.x_train, digits.y_train, seeds=members,
                               steps=dg["steps"], lr=dg["lr"], batch_size=dg["batch_size"],
                               log_every=dg["log_every"])  # fmt: skip
accs = {d: member_loss_and_accuracy(m, digits.x_test, digits.y_test)[1] for d, m in stacks.items()}
# step 0 is left out of the curves: before any step the BN running statistics are still (0, 1)
steps_logged = hists["deep"].steps[1:]
curves = {name: torch.stack(hists[depth_of(name)].train_loss[1:])[:, member_rows(name)]
          for name in NETS}  # (checkpoints, seeds)  # fmt: skip
last = dg["final_checkpoints"]
final_loss = {name: c[-last:].mean(dim=0) for name, c in curves.items()}
publish_tree(ch.results, "train_loss", final_loss)
publish_tree(
    ch.results, "test_acc", {name: accs[depth_of(name)][member_rows(name)] for name in NETS}
)
ch.results["train_loss_curve"] = {
    "steps": steps_logged,
    **{k: c.mean(dim=1).tolist() for k, c in curves.items()},
}
ch.results["train_loss_curve_by_seed"] = {k: c.tolist() for k, c in curves.items()}
grads = {name: grad_init[depth_of(name)][member_rows(name)] for name in NETS}  # (seeds, layers)
publish(ch.results, "grad_norm_at_init", [{k: g[s].tolist() for k, g in grads.items()}
                                          for s in range(n)])  # fmt: skip
ch.results["degradation_params"] = {
    name: count_parameters(build(NETS[name][0], NETS[name][1])()) for name in NETS
}
publish_tree(ch.results, "train_loss_ratio_deep_over_shallow", {
    "plain": final_loss["plain_deep"] / final_loss["plain_shallow"],
    "res": final_loss["res_deep"] / final_loss["res_shallow"],
})  # fmt: skip
publish_tree(ch.results, "grad_ratio_first_last_at_init",
             {name: g[:, 0] / g[:, -1] for name, g in grads.items()})  # fmt: skip
ch.results["train_loss_range"] = {
    k: [float(v.min()), float(v.max())] for k, v in final_loss.items()
}
# how often the deep residual net ends below the shallow one, seed by seed
ch.results["res_deep_below_shallow_seeds"] = int(
    (final_loss["res_deep"] < final_loss["res_shallow"]).sum()
)
ch.results["res_deep_acc_minus_shallow"] = float((accs["deep"][n:] - accs["shallow"][n:]).mean())

LABEL = {
    "plain_shallow": ("plain, {} layers", "普通网络，{} 层"),
    "plain_deep": ("plain, {} layers", "普通网络，{} 层"),
    "res_shallow": ("residual, {} layers", "残差网络，{} 层"),
    "res_deep": ("residual, {} layers", "残差网络，{} 层"),
}
STYLE = {  # colour by family, dashes for the shallow twin
    "plain_shallow": (color("plain"), "--"),
    "plain_deep": (color("plain"), "-"),
    "res_shallow": (color("resnet"), "--"),
    "res_deep": (color("resnet"), "-"),
}


def label(name: str, tr) -> str:
    return tr(*LABEL[name]).format(NETS[name][0])


def draw_degradation(fig, tr):
    ax = fig.add_subplot()
    for name in NETS:
        c, ls = STYLE[name]
        rows = curves[name].T.tolist()
        lo = curves[name].min(dim=1).values.tolist()
        hi = curves[name].max(dim=1).values.tolist()
        ax.fill_between(steps_logged, lo, hi, color=c, alpha=0.2, linewidth=0)
        ax.plot(steps_logged, [sum(r[t] for r in rows) / len(rows) for t in range(len(lo))],
                color=c, linestyle=ls, label=label(name, tr))  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("training loss (whole training set)", "训练损失（整个训练集）"))
    ax.set_title(tr(f"Width {dg['width']}, batch norm, He init, plain SGD ({n} seeds)",
                    f"宽 {dg['width']}，批量归一化，He 初始化，普通 SGD（{n} 个种子）"))  # fmt: skip
    ax.legend(fontsize=9)


ch.figure("degradation", draw_degradation)


def draw_grad_init(fig, tr):
    ax = fig.add_subplot()
    for name in ("plain_deep", "res_deep"):
        c, _ = STYLE[name]
        g = grads[name]
        band(ax, list(range(1, g.shape[1] + 1)), g.tolist(), c, label(name, tr))
    ax.set_yscale("log")
    ax.set_xlabel(tr("hidden layer (input side first)", "隐藏层（输入端在左）"))
    ax.set_ylabel(tr("‖∂loss/∂z‖ at initialisation", "初始化时的 ‖∂损失/∂z‖"))
    ax.set_title(tr(f"Gradient per layer before training ({n} seeds)",
                    f"训练前每层的梯度（{n} 个种子）"))  # fmt: skip
    ax.legend(fontsize=9)


ch.figure("grad_at_init", draw_grad_init)

# %% [markdown]
# ### Lesion study: delete one block from the trained net
#
# Veit et al. deleted single blocks from a trained ResNet and saw the error barely move, while
# deleting a layer of a plain (VGG) net destroyed it. Here: each residual block of the deep and of
# the shallow residual net in turn, against each width -> width hidden layer of the shallow plain
# net (the deep plain net never learned, so there is nothing to destroy).


# %%
@torch.no_grad()
def lesion_accuracy(model: StackedNet, stages: list, stage: int) -> torch.Tensor:
    """Every member's test accuracy with `stages[stage]` skipped in the forward pass."""
    kept = model.stages
    model.stages = stages[:stage] + stages[stage + 1 :]
    try:
        return member_loss_and_accuracy(model, digits.x_test, digits.y_test)[1]
    finally:
        model.stages = kept


def lesions(name: str) -> torch.Tensor:
    """(seeds, removable stages): blocks of a residual net; single hidden layers of a plain net
    (with the skip at 0 the pairs of the stack are two plain layers, so they may be split)."""
    model = stacks[depth_of(name)]
    stages = model.stages
    if name.startswith("plain"):
        stages = [(layer,) for stage in stages for layer in stage]
    accs_ = [lesion_accuracy(model, stages, s) for s in range(1, len(stages) - 1)]
    return torch.stack(accs_, dim=1)[member_rows(name)]


lesion = {name: lesions(name) for name in ("res_deep", "plain_shallow", "res_shallow")}
publish(ch.results, "lesion_test_acc", [{k: v[s].tolist() for k, v in lesion.items()}
                                        for s in range(n)])  # fmt: skip
deep_lesion = lesion["res_deep"]
worst_block = int(deep_lesion.mean(dim=0).argmin())
publish_tree(ch.results, "lesion_summary", {
    "res_deep_worst": deep_lesion.min(dim=1).values,
    "res_deep_median": deep_lesion.median(dim=1).values,
    "res_shallow_worst": lesion["res_shallow"].min(dim=1).values,
    "plain_shallow_best": lesion["plain_shallow"].max(dim=1).values,
})  # fmt: skip
ch.results["lesion_summary"]["res_deep_worst_block"] = 1 + worst_block
ch.results["lesion_summary"]["res_deep_blocks"] = deep_lesion.shape[1]


def draw_lesion(fig, tr):
    ax = fig.add_subplot()
    for name in ("res_deep", "res_shallow", "plain_shallow"):
        c, ls = STYLE[name]
        accs_ = lesion[name]
        xs = list(range(1, accs_.shape[1] + 1))
        ax.fill_between(xs, accs_.min(dim=0).values.tolist(), accs_.max(dim=0).values.tolist(),
                        color=c, alpha=0.2, linewidth=0)  # fmt: skip
        ax.plot(xs, accs_.mean(dim=0).tolist(), color=c, marker="o", markersize=3, linestyle=ls,
                label=label(name, tr))  # fmt: skip
        ax.axhline(float(ch.results["test_acc"][name]), color=c, linewidth=1, linestyle=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(tr("deleted block (or layer)", "删除的块（或层）"))
    ax.set_ylabel(tr("test accuracy", "测试准确率"))
    ax.set_title(tr(f"Delete one piece of a trained net ({n} seeds)",
                    f"从训练好的网络中删去一块（{n} 个种子）"))  # fmt: skip
    ax.legend(fontsize=9, loc="lower right")


ch.figure("lesion", draw_lesion)

# %% [markdown]
# ## 2. Shattered gradients
#
# A net with one input and one output, width 200, ReLU, He init and batch norm, looked at as a
# function on 256 points of [-2, 2]. Batch norm takes its statistics from the grid once and then
# keeps them fixed, so dy/dx at each point is the derivative of one fixed function. The plain net
# stacks Linear-BN-ReLU layers; the residual nets add blocks, either of one layer,
# x <- x + W relu(BN(x)), or the standard pre-activation block of two,
# x <- x + W2 relu(BN(W1 relu(BN(x)))). "Depth" counts layers in the one and blocks in the others.
# Every seed draws its own nets; every curve averages the seeds and shows their range.


# %%
sh = cfg["shattered"]


class PreActBlock(nn.Module):
    """x + W relu(BN(x)) (`layers=1`), or x + W2 relu(BN(W1 relu(BN(x)))) (`layers=2`)."""

    def __init__(self, width: int, layers: int = 1) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.BatchNorm1d(width, momentum=None) for _ in range(layers))
        self.linears = nn.ModuleList(nn.Linear(width, width) for _ in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for norm, linear in zip(self.norms, self.linears, strict=True):
            h = linear(F.relu(norm(h)))
        return x + h


KINDS = {"plain": 0, "resnet": 1, "resnet_2layer": 2}  # kind -> layers per residual block


def scalar_net(depth: int, width: int, kind: str) -> nn.Sequential:
    """R -> R: an input layer, `depth` layers (plain) or blocks (residual), an output layer."""
    if KINDS[kind]:
        body = [nn.Linear(1, width), *[PreActBlock(width, KINDS[kind]) for _ in range(depth)]]
    else:
        body = [nn.Linear(1, width), nn.BatchNorm1d(width, momentum=None), nn.ReLU()]
        for _ in range(depth - 1):
            body += [nn.Linear(width, width), nn.BatchNorm1d(width, momentum=None), nn.ReLU()]
    net = nn.Sequential(*body, nn.Linear(width, 1))
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return net


def input_gradient(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """dy/dx at every grid point, with batch norm statistics taken from the grid and then frozen."""
    net.train()
    with torch.no_grad():
        net(x)  # momentum=None: the running statistics become the grid's statistics
    net.eval()
    x = x.clone().requires_grad_(True)
    net(x).sum().backward()  # in eval mode the rows are independent: grad[i] = dy_i/dx_i
    return x.grad.squeeze(1)


def lag1_autocorr(g: torch.Tensor) -> float:
    """Correlation of the gradient with itself one grid step later (1: smooth, 0: white noise)."""
    g = g - g.mean()
    return float((g[:-1] * g[1:]).sum() / (g * g).sum())


grid = data.grid_1d(sh["grid_points"], sh["grid_lo"], sh["grid_hi"])
autocorr: dict[str, dict[str, list[float]]] = {k: {} for k in KINDS}
shown: dict[str, dict[str, list[float]]] = {k: {} for k in KINDS}
for kind in KINDS:
    for depth in sh["depths"]:
        values = []
        for s in seeds:
            torch.manual_seed(s)
            g = input_gradient(scalar_net(depth, sh["width"], kind), grid)
            values.append(lag1_autocorr(g))
            if s == seeds[0]:
                shown[kind][str(depth)] = g.tolist()
        autocorr[kind][str(depth)] = values
publish_tree(ch.results, "grad_autocorr", {k: autocorr[k] for k in ("plain", "resnet")})
publish_tree(ch.results, "grad_autocorr_2layer", autocorr["resnet_2layer"])
ch.results["grad_curves"] = {
    "x": grid.squeeze(1).tolist(),
    **{
        k: {d: shown[k][str(d)] for d in map(str, sh["show_depths"]) if d in shown[k]}
        for k in ("plain", "resnet")
    },
}
# the shapes of Balduzzi et al.'s rates, drawn through the measured value at depth 1
first = str(sh["depths"][0])
ch.results["grad_autocorr_guides"] = {
    "plain_2_pow_minus_L": [ch.results["grad_autocorr"]["plain"][first] * 2.0 ** (1 - d)
                            for d in sh["depths"]],
    "resnet_inv_sqrt_L": [ch.results["grad_autocorr_2layer"][first] * (1 / d) ** 0.5
                          for d in sh["depths"]],
}  # fmt: skip


def draw_shattered(fig, tr):
    show = [d for d in map(str, sh["show_depths"]) if d in shown["plain"]]
    axes = fig.subplots(len(show), 2, sharex=True, squeeze=False)
    x = grid.squeeze(1).tolist()
    names = {"plain": tr("plain", "普通网络"), "resnet": tr("residual", "残差网络")}
    for row, depth in enumerate(show):
        for col, kind in enumerate(("plain", "resnet")):
            ax = axes[row][col]
            g = shown[kind][depth]
            ax.plot(x, g, color=color(kind), linewidth=1.0)
            unit = tr("layers", "层") if kind == "plain" else tr("one-layer blocks", "个单层块")
            ax.set_title(f"{names[kind]}{tr(', ', '，')}{depth} {unit}", fontsize=10)
            ax.set_yticks([])
    for ax in axes[-1]:
        ax.set_xlabel("x")
    for row in axes:
        row[0].set_ylabel("dy/dx")
    fig.suptitle(tr("One net per panel (seed 0)", "每幅图一个网络（种子 0）"), fontsize=9)


ch.figure("shattered", draw_shattered, figsize=(5.6, 3.8))


def draw_autocorr(fig, tr):
    ax = fig.add_subplot()
    depths = sh["depths"]
    styles = {
        "plain": (color("plain"), tr("plain (layers)", "普通网络（层）")),
        "resnet": (color("resnet"), tr("residual, one-layer blocks", "残差网络，单层块")),
        "resnet_2layer": (PALETTE[4], tr("residual, two-layer blocks", "残差网络，双层块")),
    }
    for kind, (c, name) in styles.items():
        rows = [list(r) for r in zip(*autocorr[kind].values(), strict=True)]
        band(ax, depths, rows, c, name)
    guides = ch.results["grad_autocorr_guides"]
    ax.plot(depths, guides["plain_2_pow_minus_L"], color=color("plain"), linestyle=":",
            label=r"$\propto 2^{-L}$")  # fmt: skip
    ax.plot(depths, guides["resnet_inv_sqrt_L"], color=PALETTE[4], linestyle=":",
            label=r"$\propto 1/\sqrt{L}$")  # fmt: skip
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_xlabel(tr("depth L (layers or blocks)", "深度 L（层数或块数）"))
    ax.set_ylabel(tr("lag-1 autocorrelation of dy/dx", "dy/dx 的一阶自相关"))
    ax.set_title(tr(f"Width 200, ReLU, He init, batch norm ({len(seeds)} seeds)",
                    f"宽 200，ReLU，He 初始化，批量归一化（{len(seeds)} 个种子）"))  # fmt: skip
    ax.legend(fontsize=8)


ch.figure("grad_autocorr", draw_autocorr)

# %% [markdown]
# ## 3. A residual net as a collection of paths
#
# Unroll n blocks y = x + F(x): each block is either skipped or passed through, so there are 2^n
# paths, and C(n, k) of them pass through exactly k blocks. We only count paths here; the gradient
# per path length is Veit et al.'s measurement (on their trained 54-block ResNet), not ours.

# %%
pa = cfg["paths"]
n_blocks = pa["blocks"]
pmf = [comb(n_blocks, k) / 2**n_blocks for k in range(n_blocks + 1)]
effective = sum(pmf[pa["effective_lo"] : pa["effective_hi"] + 1])
ch.results["path_length_pmf"] = pmf
ch.results["effective_path_fraction"] = effective
ch.results["path_length_mean"] = n_blocks / 2
# the central band of lengths that holds most paths (mean +- 2 standard deviations)
sd = (n_blocks / 4) ** 0.5
lo, hi = round(n_blocks / 2 - 2 * sd), round(n_blocks / 2 + 2 * sd)
ch.results["central_paths"] = {"lo": lo, "hi": hi, "fraction": sum(pmf[lo : hi + 1])}


def draw_paths(fig, tr):
    ax = fig.add_subplot()
    ks = list(range(n_blocks + 1))
    eff = range(pa["effective_lo"], pa["effective_hi"] + 1)
    span = f"{pa['effective_lo']}–{pa['effective_hi']}"
    ax.bar(ks, pmf, width=0.85, color=PALETTE[6], log=True)
    ax.bar(list(eff), [pmf[k] for k in eff], width=0.85, color=color("resnet"), log=True,
           label=tr(f"lengths {span}: most gradient in Veit et al.'s net",
                    f"长度 {span}：Veit 等测得梯度主要来自这些路径"))  # fmt: skip
    ax.set_ylim(1e-12, 1)  # log scale: the short paths are rare, 1e-10 of all for length 5
    ax.set_xlabel(tr("path length (blocks passed through)", "路径长度（经过的块数）"))
    # Unicode superscript digits: mathtext ($2^{54}$) would render the Chinese label as tofu
    power = "2" + str(n_blocks).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    ax.set_ylabel(tr(f"share of all {power} paths", f"占全部 {power} 条路径的比例"))
    ax.set_title(
        tr(f"{n_blocks} residual blocks: path lengths", f"{n_blocks} 个残差块：路径长度分布")
    )
    ax.legend(fontsize=9, loc="upper left")


ch.figure("path_lengths", draw_paths)

# %% [markdown]
# ## 4. The reference ResNet-18
#
# `gradbook.resnet.resnet18` at width 16 on 8x8 digits: a 3x3 stem, four stages of two basic
# blocks, the first block of stages 2-4 halving the resolution with a projection shortcut. This is
# the common small-image adaptation of the ImageNet ResNet-18, not one of He et al.'s CIFAR nets
# (those have three stages of 16, 32 and 64 filters: ResNet-20, 32, 44, 56, 110). Nothing is
# trained here.

# %%
r18 = cfg["resnet18"]
model = resnet18(in_channels=r18["input_shape"][0], num_classes=10, width=r18["width"])
rows = structure(model, r18["input_shape"])
ch.results["resnet18_structure"] = rows
# the same rows as text for the table on the page: shape "16 × 8 × 8", parameters "1,184"
ch.results["resnet18_table"] = [
    {"shape": " × ".join(map(str, r["shape"])), "params": f"{r['params']:,}"} for r in rows
]
ch.results["resnet18_params"] = {
    "digits": count_parameters(model),
    "cifar_width64": count_parameters(resnet18(in_channels=3, num_classes=10, width=64)),
}

ch.finish()
