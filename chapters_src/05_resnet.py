# %% [markdown]
# # 05 Residual connections
#
# Four measurements:
#
# 1. **Degradation.** Plain nets of Linear-BN-ReLU layers and residual nets of two-layer blocks, 8
#    and 56 linear layers deep, width 64, He init, the same plain-SGD budget on digits. The deep
#    plain net trains worse than the shallow one: that is He et al.'s (2016) degradation problem,
#    measured on the *training* loss, so it is not overfitting. The deep residual net does not.
#    We also look at the gradient per layer at initialisation, and delete single blocks from the
#    trained residual net (Veit et al. 2016's lesion study).
# 2. **Shattered gradients.** Balduzzi et al.'s (2017) picture: the derivative dy/dx of a scalar net
#    over a grid of inputs turns into white noise with depth in a plain net, not in a residual net.
#    We measure its lag-1 autocorrelation by depth.
# 3. **Paths.** Veit et al.'s count: a net of n residual blocks unrolls into 2^n paths whose lengths
#    are binomially distributed.
# 4. **The reference ResNet-18** of `gradbook/resnet.py`, layer by layer.

# %%
from __future__ import annotations

from math import comb

import torch
import torch.nn.functional as F
from torch import nn

from gradbook import data, probes
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import PALETTE, color
from gradbook.resnet import count_parameters, resnet18, structure
from gradbook.train import evaluate, fit

ch = Chapter.start(__file__)
cfg = ch.config
digits = data.digits(seed=ch.seed)

# %% [markdown]
# ## 1. Degradation: deeper plain nets train worse
#
# `MLP(residual=True)` groups the hidden layers after the first into blocks
# h <- relu(BN(W2 relu(BN(W1 h))) + h). Counting linear layers, a net with `n` of them has `n - 1`
# hidden layers: the plain net stacks them one by one, the residual net uses one input layer and
# (n - 2) / 2 blocks. Same width, same parameter count, same data order, same steps.

# %%
dg = cfg["degradation"]
NETS = {  # name -> (linear layers, residual)
    "plain_shallow": (dg["shallow_layers"], False),
    "plain_deep": (dg["deep_layers"], False),
    "res_shallow": (dg["shallow_layers"], True),
    "res_deep": (dg["deep_layers"], True),
}


def make_net(layers: int, residual: bool) -> MLP:
    """`layers` linear layers of width dg["width"], BN in every hidden layer, He init."""
    torch.manual_seed(ch.seed)
    return MLP.deep(
        digits.n_features, dg["width"], layers - 1, digits.n_classes,
        activation="relu", init=dg["init"], batch_norm=True, residual=residual, bias=dg["bias"],
    )  # fmt: skip


def init_grad_norms(net: MLP) -> list[float]:
    """||dLoss/dz|| per hidden layer at initialisation, on the whole training set."""
    y = digits.y_train
    norms = probes.grad_norms_at(net, digits.x_train, lambda out: F.cross_entropy(out, y))
    return [norms[name] for name in net.hidden_names]


trained: dict[str, MLP] = {}
curves: dict[str, list[float]] = {}
final_loss: dict[str, float] = {}
test_acc: dict[str, float] = {}
grad_at_init: dict[str, list[float]] = {}
steps_logged: list[int] = []
for name, (layers, residual) in NETS.items():
    net = make_net(layers, residual)
    grad_at_init[name] = init_grad_norms(net)
    # plain SGD; `foreach` updates all parameters in one call (same numbers, less overhead)
    sgd = torch.optim.SGD(net.parameters(), lr=dg["lr"], foreach=True)
    hist = fit(
        net, digits.x_train, digits.y_train, steps=dg["steps"], lr=dg["lr"], optimizer=sgd,
        batch_size=dg["batch_size"], log_every=dg["log_every"], seed=ch.seed,
    )  # fmt: skip
    # step 0 is left out: before any step the BN running statistics are still (0, 1)
    steps_logged, curves[name] = hist.steps[1:], hist.train_loss[1:]
    final_loss[name] = hist.train_loss[-1]
    test_acc[name] = evaluate(net, digits.x_test, digits.y_test).accuracy
    trained[name] = net
ch.results["train_loss"] = final_loss
ch.results["test_acc"] = test_acc
ch.results["train_loss_curve"] = {"steps": steps_logged, **curves}
ch.results["grad_norm_at_init"] = grad_at_init
ch.results["degradation_params"] = {n: count_parameters(net) for n, net in trained.items()}
ch.results["train_loss_ratio_deep_over_shallow"] = {
    "plain": final_loss["plain_deep"] / final_loss["plain_shallow"],
    "res": final_loss["res_deep"] / final_loss["res_shallow"],
}
ch.results["grad_ratio_first_last_at_init"] = {
    name: norms[0] / norms[-1] for name, norms in grad_at_init.items()
}

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
        ax.plot(steps_logged, curves[name], color=c, linestyle=ls, label=label(name, tr))
    ax.set_yscale("log")
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("training loss (whole training set)", "训练损失（整个训练集）"))
    ax.set_title(
        tr("Width 64, batch norm, He init, plain SGD", "宽 64，批量归一化，He 初始化，普通 SGD")
    )
    ax.legend(fontsize=9)


ch.figure("degradation", draw_degradation)


def draw_grad_init(fig, tr):
    ax = fig.add_subplot()
    for name in ("plain_deep", "res_deep"):
        c, _ = STYLE[name]
        norms = grad_at_init[name]
        ax.plot(range(1, len(norms) + 1), norms, color=c, label=label(name, tr))
    ax.set_yscale("log")
    ax.set_xlabel(tr("hidden layer (input side first)", "隐藏层（输入端在左）"))
    ax.set_ylabel(tr("‖∂loss/∂z‖ at initialisation", "初始化时的 ‖∂损失/∂z‖"))
    ax.set_title(tr("Gradient per layer before training", "训练前每层的梯度"))
    ax.legend(fontsize=9)


ch.figure("grad_at_init", draw_grad_init)

# %% [markdown]
# ### Lesion study: delete one block from the trained net
#
# Veit et al. deleted single blocks from a trained ResNet and saw the error barely move, while
# deleting a layer of a plain (VGG) net destroyed it. Here: each residual block of the deep
# residual net in turn, against each 64 -> 64 hidden layer of the shallow plain net (the deep plain
# net never learned, so there is nothing to destroy).


# %%
@torch.no_grad()
def lesion_accuracy(net: MLP, stage: int) -> float:
    """Test accuracy with stage `stage` (a block, or a single layer) skipped in the forward pass."""
    kept = net.stages
    net.stages = kept[:stage] + kept[stage + 1 :]
    try:
        return evaluate(net, digits.x_test, digits.y_test).accuracy
    finally:
        net.stages = kept


def removable_stages(net: MLP) -> list[int]:
    """Stages whose input and output widths agree: all but the input layer and the output layer."""
    return list(range(1, len(net.stages) - 1))


lesion = {
    name: [lesion_accuracy(trained[name], s) for s in removable_stages(trained[name])]
    for name in ("res_deep", "plain_shallow")
}
ch.results["lesion_test_acc"] = lesion
ch.results["lesion_summary"] = {
    "res_deep_worst": min(lesion["res_deep"]),
    "res_deep_worst_block": 1 + lesion["res_deep"].index(min(lesion["res_deep"])),
    "res_deep_median": sorted(lesion["res_deep"])[len(lesion["res_deep"]) // 2],
    "res_deep_blocks": len(lesion["res_deep"]),
    "plain_shallow_best": max(lesion["plain_shallow"]),
}


def draw_lesion(fig, tr):
    ax = fig.add_subplot()
    for name in ("res_deep", "plain_shallow"):
        c, _ = STYLE[name]
        accs = lesion[name]
        ax.plot(range(1, len(accs) + 1), accs, color=c, marker="o", markersize=3,
                label=label(name, tr))  # fmt: skip
        ax.axhline(test_acc[name], color=c, linewidth=1, linestyle=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(tr("deleted block (or layer)", "删除的块（或层）"))
    ax.set_ylabel(tr("test accuracy", "测试准确率"))
    ax.set_title(tr("Delete one piece of a trained net", "从训练好的网络中删去一块"))
    ax.legend(fontsize=9, loc="lower right")


ch.figure("lesion", draw_lesion)

# %% [markdown]
# ## 2. Shattered gradients
#
# A net with one input and one output, width 200, ReLU, He init and batch norm, looked at as a
# function on 256 points of [-2, 2]. Batch norm takes its statistics from the grid once and then
# keeps them fixed, so dy/dx at each point is the derivative of one fixed function. The plain net
# stacks Linear-BN-ReLU layers; the residual net adds blocks x <- x + W relu(BN(x)), the form
# Balduzzi et al. analyse. "Depth" counts layers in the one and blocks in the other.


# %%
sh = cfg["shattered"]


class PreActBlock(nn.Module):
    """x + W relu(BN(x)): one residual block as in Balduzzi et al.'s analysis."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(width, momentum=None)
        self.linear = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.linear(F.relu(self.norm(x)))


def scalar_net(depth: int, width: int, residual: bool) -> nn.Sequential:
    """R -> R: an input layer, `depth` layers (plain) or blocks (residual), an output layer."""
    if residual:
        body = [nn.Linear(1, width), *[PreActBlock(width) for _ in range(depth)]]
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
autocorr: dict[str, dict[str, float]] = {"plain": {}, "resnet": {}}
shown: dict[str, dict[str, list[float]]] = {"plain": {}, "resnet": {}}
for kind in autocorr:
    for depth in sh["depths"]:
        values = []
        for s in range(sh["seeds"]):
            torch.manual_seed(ch.seed + s)
            g = input_gradient(scalar_net(depth, sh["width"], kind == "resnet"), grid)
            values.append(lag1_autocorr(g))
            if s == 0:
                shown[kind][str(depth)] = g.tolist()
        autocorr[kind][str(depth)] = sum(values) / len(values)
ch.results["grad_autocorr"] = autocorr
ch.results["grad_curves"] = {
    "x": grid.squeeze(1).tolist(),
    **{
        k: {d: shown[k][str(d)] for d in map(str, sh["show_depths"]) if d in shown[k]}
        for k in shown
    },
}


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
            unit = tr("layers", "层") if kind == "plain" else tr("blocks", "个块")
            ax.set_title(f"{names[kind]}, {depth} {unit}", fontsize=10)
            ax.set_yticks([])
    for ax in axes[-1]:
        ax.set_xlabel("x")
    for row in axes:
        row[0].set_ylabel("dy/dx")


ch.figure("shattered", draw_shattered, figsize=(5.6, 3.8))


def draw_autocorr(fig, tr):
    ax = fig.add_subplot()
    for kind, name in (("plain", tr("plain", "普通网络")), ("resnet", tr("residual", "残差网络"))):
        depths = [int(d) for d in autocorr[kind]]
        ax.plot(depths, list(autocorr[kind].values()), color=color(kind), marker="o", label=name)
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_xlabel(tr("depth (layers or blocks)", "深度（层数或块数）"))
    ax.set_ylabel(tr("lag-1 autocorrelation of dy/dx", "dy/dx 的一阶自相关"))
    ax.set_title(tr("Width 200, ReLU, He init, batch norm", "宽 200，ReLU，He 初始化，批量归一化"))
    ax.legend()


ch.figure("grad_autocorr", draw_autocorr)

# %% [markdown]
# ## 3. A residual net as a collection of paths
#
# Unroll n blocks y = x + F(x): each block is either skipped or passed through, so there are 2^n
# paths, and C(n, k) of them pass through exactly k blocks. Veit et al. found that in a 54-block
# ResNet nearly all the gradient comes from paths of length 5 to 17.

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
    band = f"{pa['effective_lo']}–{pa['effective_hi']}"
    ax.bar(ks, pmf, width=0.85, color=PALETTE[6], log=True)
    ax.bar(list(eff), [pmf[k] for k in eff], width=0.85, color=color("resnet"), log=True,
           label=tr(f"lengths {band}: nearly all the gradient", f"长度 {band}：几乎全部梯度"))  # fmt: skip
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
# blocks, the first block of stages 2-4 halving the resolution with a projection shortcut.

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
