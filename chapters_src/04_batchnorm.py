# %% [markdown]
# # 04 Batch normalisation
#
# Every experiment runs five seeds (initial weights and minibatch order; the train/test split is the
# same for all), trained together as one batched model (`gradbook.stacked`).
#
# 1. **Ioffe & Szegedy's figure 1, on digits.** Three hidden layers of 100 sigmoid units, batch 60,
#    with and without batch norm. During training we watch the 15th, 50th and 85th percentiles of
#    the input to the last hidden layer's sigmoids, and the test accuracy, from step 0 on.
# 2. **Depth.** The same recipe with 20 hidden sigmoid layers, and what goes wrong without batch
#    norm, measured at initialisation: the forward signal, the sigmoid's slope, the gradient.
# 3. **Learning rates.** A sweep over the step size: the two nets of experiment 1, and a plain net
#    with Xavier init, which trains without batch norm, so that the upper edge can be compared.
# 4. **A pitfall.** The trained BN nets evaluated with batch statistics of small test batches
#    (training mode) instead of their running statistics (evaluation mode).

# %%
from __future__ import annotations

import math

import torch

from gradbook import data
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import PALETTE, color
from gradbook.seeds import by_seed, mean, publish, publish_tree, sd
from gradbook.spread import BAND_ALPHA, band
from gradbook.stacked import StackedNet, fit_stacked, member_loss_and_accuracy, preact_grad_norms

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
ch.results["seeds"] = seeds
digits = data.digits(seed=ch.seed)
VARIANTS = {"plain": False, "bn": True}
LABEL = {"plain": ("without BN", "无 BN"), "bn": ("with BN", "有 BN"),
         "plain_xavier": ("without BN, Xavier init", "无 BN，Xavier 初始化")}  # fmt: skip


def builder(depth: int, width: int, bn: bool, init: str | None = None):
    """A sigmoid MLP, PyTorch's default init unless `init`, batch norm before every sigmoid if `bn`.

    The linear layers keep their biases in both variants, so that the two differ in nothing but the
    batch-norm layers (before BN the bias is redundant: BN subtracts it again)."""
    return lambda: MLP.deep(digits.n_features, width, depth, digits.n_classes,
                            activation="sigmoid", batch_norm=bn, init=init)  # fmt: skip


def stack(depth: int, width: int, bn: bool, members: list[int], init: str | None = None):
    """One net per member, each the net a single run with that seed starts from."""
    return StackedNet.from_seeds(builder(depth, width, bn, init), members)


def split_seeds(tree: dict[str, torch.Tensor], axis: int) -> list[dict[str, list]]:
    """{variant: tensor with the seeds along `axis`} -> a list over seeds of {variant: values}, as
    `publish` takes it."""
    n = next(iter(tree.values())).shape[axis]
    return [{k: v.select(axis, s).tolist() for k, v in tree.items()} for s in range(n)]


# %% [markdown]
# ## 1. The distribution a sigmoid sees, during training
#
# At each checkpoint we run the test set through the nets in evaluation mode and record, for every
# unit of the last hidden layer, the 15th/50th/85th percentile of its input over the test images.
# The median over units of each percentile is our "typical sigmoid". At step 0 the running
# statistics are still the (0, 1) they start from, so there the BN net normalises with the test
# set's own batch statistics. The test accuracy is recorded at the same checkpoints.


# %%
@torch.no_grad()
def typical_percentiles(model: StackedNet, x: torch.Tensor, qs: list[float], stats: str):
    """(members, percentiles): per-unit percentiles of the last hidden layer's pre-activation,
    median over the units; and the test accuracy."""
    zs: list[torch.Tensor] = []
    out = model(x, stats=stats, capture=zs)
    per_unit = torch.quantile(zs[-1], torch.tensor([q / 100 for q in qs]), dim=1)  # (q, m, units)
    acc = (out.argmax(dim=2) == digits.y_test).double().mean(dim=1)
    return per_unit.median(dim=2).values.T, acc


io = cfg["ioffe"]
percentiles: dict[str, list[torch.Tensor]] = {}
acc_curve: dict[str, list[torch.Tensor]] = {}
ioffe_nets: dict[str, StackedNet] = {}
checkpoints: list[int] = []
train_curves: dict[str, list[torch.Tensor]] = {}
for name, bn in VARIANTS.items():
    nets = stack(io["depth"], io["width"], bn, seeds)
    track: list[torch.Tensor] = []
    accs: list[torch.Tensor] = []
    steps_seen: list[int] = []

    def checkpoint(step: int, model: StackedNet, track=track, accs=accs, seen=steps_seen, bn=bn):
        if step % io["checkpoint_every"] == 0:
            stats = "batch" if (bn and step == 0) else "running"
            p, a = typical_percentiles(model, digits.x_test, io["percentiles"], stats)
            track.append(p)
            accs.append(a)
            seen.append(step)

    hist = fit_stacked(nets, digits.x_train, digits.y_train, seeds=seeds, steps=io["steps"],
                       lr=io["lr"], batch_size=io["batch_size"], log_every=io["checkpoint_every"],
                       on_step=checkpoint)  # fmt: skip
    percentiles[name], acc_curve[name], checkpoints = track, accs, steps_seen
    train_curves[name] = hist.train_loss
    ioffe_nets[name] = nets

ch.results["checkpoint_steps"] = checkpoints
# percentiles[variant][checkpoint] = [p15, p50, p85]; _by_seed has a list over seeds at each leaf
publish(ch.results, "percentiles", split_seeds({k: torch.stack(v) for k, v in
                                                percentiles.items()}, axis=1))  # fmt: skip
final_acc = {k: v[-1] for k, v in acc_curve.items()}
publish_tree(ch.results, "test_acc", final_acc)
publish(ch.results, "test_acc_curve", split_seeds({k: torch.stack(v) for k, v in
                                                    acc_curve.items()}, axis=1))  # fmt: skip
medians = {k: torch.stack(v)[:, :, 1] for k, v in percentiles.items()}  # (checkpoints, seeds)
# How far the typical sigmoid's input moved: first (step 0) to last checkpoint, and max - min
publish_tree(ch.results, "median_drift", {k: m[-1] - m[0] for k, m in medians.items()})
publish_tree(ch.results, "median_range", {k: m.max(0).values - m.min(0).values
                                          for k, m in medians.items()})  # fmt: skip
ch.results["median_lowest"] = {k: float(m.mean(1).min()) for k, m in medians.items()}
ch.results["median_lowest_sigmoid_slope"] = {
    k: torch.sigmoid(torch.tensor(v)).mul(1 - torch.sigmoid(torch.tensor(v))).item()
    for k, v in ch.results["median_lowest"].items()
}
spread = {k: torch.stack(v)[:, :, 2] - torch.stack(v)[:, :, 0] for k, v in percentiles.items()}
publish(ch.results, "spread_first_last", split_seeds({k: s[[0, -1]] for k, s in spread.items()},
                                                       axis=1))  # fmt: skip


def first_reaching(curve: list[torch.Tensor], level: float) -> list[float]:
    """Per seed: the first checkpoint step at which the test accuracy reaches `level`."""
    rows = torch.stack(curve).T  # (seeds, checkpoints)
    return [float(next((s for s, a in zip(checkpoints, row, strict=True) if a >= level),
                       math.inf)) for row in rows.tolist()]  # fmt: skip


level = io["acc_level"]
steps_to = {k: first_reaching(v, level) for k, v in acc_curve.items()}
if all(math.isfinite(s) for v in steps_to.values() for s in v):
    publish_tree(ch.results, "steps_to_acc_level", steps_to)
else:  # a seed that never got there (quick mode): store None and say so
    ch.results["steps_to_acc_level"] = None
ch.results["acc_level"] = level


def draw_percentiles(fig, tr):
    axes = fig.subplots(1, 2, sharey=True)
    titles = {"plain": tr("without BN", "无批量归一化"), "bn": tr("with BN", "有批量归一化")}
    by = ch.results["percentiles_by_seed"]
    for ax, name in zip(axes, VARIANTS, strict=True):
        for j, q in enumerate(io["percentiles"]):
            rows = [list(r) for r in zip(*[c[j] for c in by[name]], strict=True)]
            label = tr("median (p50)", "中位数（p50）") if q == 50 else (
                tr("p15 and p85", "p15 和 p85") if j == 0 else None)  # fmt: skip
            if q == 50:
                band(ax, checkpoints, rows, color(name), label, linewidth=2.5)
            else:
                lo = [min(r[t] for r in rows) for t in range(len(checkpoints))]
                hi = [max(r[t] for r in rows) for t in range(len(checkpoints))]
                ax.fill_between(checkpoints, lo, hi, color=color(name), alpha=BAND_ALPHA / 2,
                                linewidth=0)  # fmt: skip
                ax.plot(checkpoints, [mean([r[t] for r in rows]) for t in range(len(checkpoints))],
                        color=color(name), lw=1.2, linestyle="--", label=label)  # fmt: skip
        ax.set_title(titles[name])
        ax.set_xlabel(tr("SGD step", "SGD 步数"))
    axes[0].set_ylabel(tr("input to a sigmoid (15/50/85 %)", "sigmoid 的输入（15/50/85 分位）"))
    fig.legend(
        *axes[0].get_legend_handles_labels(), ncols=2, loc="outside lower center", fontsize=9
    )
    fig.suptitle(tr(f"{len(seeds)} seeds: mean, band from lowest to highest seed",
                    f"{len(seeds)} 个种子：均值，阴影为最低到最高的种子"), fontsize=10)  # fmt: skip


ch.figure("percentiles", draw_percentiles)


def draw_accuracy(fig, tr):
    ax = fig.add_subplot()
    by = ch.results["test_acc_curve_by_seed"]
    for name in VARIANTS:
        rows = [list(r) for r in zip(*by[name], strict=True)]
        band(ax, checkpoints, rows, color(name), tr(*LABEL[name]))
    ax.axhline(level, color="#888888", linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("test accuracy", "测试准确率"))
    ax.set_title(tr(f"3 hidden sigmoid layers: test accuracy ({len(seeds)} seeds)",
                    f"3 个 sigmoid 隐藏层：测试准确率（{len(seeds)} 个种子）"))  # fmt: skip
    ax.legend(loc="lower right")


ch.figure("accuracy", draw_accuracy)

# %% [markdown]
# ## 2. Twenty sigmoid layers
#
# First what the two nets do at initialisation, on the test images: for each hidden layer, how much
# its input to the sigmoid differs from image to image (per unit standard deviation across the
# images, averaged over units), the mean slope $\sigma'(z)$ there, and, in the BN net, the standard
# deviation $\sigma_\mathcal{B}$ of the linear output that batch norm divides by. Then the gradient
# per layer at initialisation on the training set, and the training itself.

# %%
dp = cfg["deep"]
deep_nets = {name: stack(dp["depth"], dp["width"], bn, seeds) for name, bn in VARIANTS.items()}
with torch.no_grad():
    signal: dict[str, torch.Tensor] = {}
    slope: dict[str, torch.Tensor] = {}
    sigma_b: torch.Tensor | None = None
    for name, nets in deep_nets.items():
        zs: list[torch.Tensor] = []
        linear: list[torch.Tensor] = []
        nets(digits.x_test, stats="batch", capture=zs, capture_linear=linear)
        signal[name] = torch.stack([z.std(dim=1).mean(dim=1) for z in zs], dim=1)  # (seeds, layers)
        s = [torch.sigmoid(z) for z in zs]
        slope[name] = torch.stack([(a * (1 - a)).mean(dim=(1, 2)) for a in s], dim=1)
        if name == "bn":
            sigma_b = torch.stack([z.std(dim=1, unbiased=False).mean(dim=1) for z in linear], 1)
grad_init = {name: preact_grad_norms(nets, digits.x_train, digits.y_train)
             for name, nets in deep_nets.items()}  # fmt: skip
publish(ch.results, "deep_signal_std_init", split_seeds(signal, axis=0))
publish(ch.results, "deep_sigmoid_slope_init", split_seeds(slope, axis=0))
publish(ch.results, "deep_sigma_b_init", sigma_b)
# BN's gain 1/sigma_B per layer from layer 2 on (layer 1 sees the standardised pixels), per seed
publish(ch.results, "deep_bn_gain_init", (1 / sigma_b[:, 1:]).mean(dim=1))
# the plain net's per-layer shrinking of the differences between images, over the layers before
# float32 rounding takes over: the geometric mean of signal[l + 1] / signal[l]
k = dp["collapse_layers"]
publish(ch.results, "deep_signal_factor_per_layer",
        (signal["plain"][:, k - 1] / signal["plain"][:, 0]) ** (1 / (k - 1)))  # fmt: skip
publish(ch.results, "deep_grad_norm_init", split_seeds(grad_init, axis=0))
publish_tree(ch.results, "deep_grad_ratio_first_last_init",
             {k: v[:, 0] / v[:, -1] for k, v in grad_init.items()})  # fmt: skip
# float32 rounds the plain net's differences between images away: the first layer where they are 0
zero = (signal["plain"] == 0).double()
ch.results["deep_plain_first_constant_layer"] = [
    int(row.nonzero()[0]) + 1 if row.any() else None for row in zero
]
ch.results["deep_plain_constant_layers"] = by_seed(zero.sum(dim=1))
ch.results["deep_plain_seeds_with_zero_spread"] = int(zero.any(dim=1).sum())

hists = {}
for name, nets in deep_nets.items():
    hists[name] = fit_stacked(nets, digits.x_train, digits.y_train, seeds=seeds,
                              steps=dp["steps"], lr=dp["lr"], batch_size=dp["batch_size"],
                              log_every=dp["log_every"])  # fmt: skip
deep_steps = hists["bn"].steps
deep_acc = {k: member_loss_and_accuracy(n, digits.x_test, digits.y_test)[1]
            for k, n in deep_nets.items()}  # fmt: skip
publish_tree(ch.results, "deep_test_acc", deep_acc)
ch.results["deep_test_acc_range"] = {
    k: [float(v.min()), float(v.max())] for k, v in deep_acc.items()
}
ch.results["deep_train_loss_curve"] = {
    "steps": deep_steps,
    **{k: [float(v) for v in torch.stack(h.train_loss).mean(dim=1)] for k, h in hists.items()},
}
ch.results["deep_train_loss_curve_by_seed"] = {
    k: torch.stack(h.train_loss).tolist() for k, h in hists.items()
}
last = dp["final_checkpoints"]
publish_tree(ch.results, "deep_final_train_loss",
             {k: torch.stack(h.train_loss[-last:]).mean(0) for k, h in hists.items()})  # fmt: skip


def draw_deep(fig, tr):
    ax = fig.add_subplot()
    for name in VARIANTS:
        rows = torch.stack(hists[name].train_loss).T.tolist()
        band(ax, deep_steps, rows, color(name), tr(*LABEL[name]))
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("training loss (cross-entropy)", "训练损失（交叉熵）"))
    ax.set_title(tr(f"20 sigmoid layers on digits ({len(seeds)} seeds)",
                    f"在 digits 上训练 20 层 sigmoid 网络（{len(seeds)} 个种子）"))  # fmt: skip
    ax.legend()


ch.figure("deep", draw_deep)


def draw_deep_signal(fig, tr):
    ax = fig.add_subplot()
    layers = list(range(1, dp["depth"] + 1))
    floor = 1e-12  # float32 zero drawn on the floor of the log axis
    plain = signal["plain"].clamp_min(floor).tolist()
    band(ax, layers, plain, color("plain"),
         tr("without BN: input of the sigmoid", "无 BN：sigmoid 的输入"))  # fmt: skip
    band(ax, layers, sigma_b.tolist(), color("bn"),
         tr(r"with BN: $\sigma_B$ of the linear output", "有 BN：线性输出的 σ_B"))  # fmt: skip
    ax.plot(
        layers,
        signal["bn"].mean(dim=0).tolist(),
        color=color("bn"),
        linestyle="--",
        label=tr("with BN: input of the sigmoid (after BN)", "有 BN：sigmoid 的输入（BN 之后）"),
    )
    ax.axhline(floor, color="#888888", linewidth=0.8, linestyle=":")
    ax.text(1, floor * 3, tr("exactly 0 in float32", "float32 下恰为 0"), fontsize=8,
            color="#555555")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks([1, 5, 10, 15, 20])
    ax.set_xlabel(tr("hidden layer (input side first)", "隐藏层（输入端在左）"))
    ax.set_ylabel(tr("std across test images", "不同测试图像间的标准差"))
    ax.set_title(tr("At initialisation: how much each layer still varies",
                    "初始化时各层随输入变化的幅度"), fontsize=11)  # fmt: skip
    ax.legend(fontsize=8, loc="center right")


ch.figure("deep_signal", draw_deep_signal)

# %% [markdown]
# ## 3. A learning-rate sweep
#
# The 3-hidden-layer nets of section 1 (PyTorch's default init, with and without BN) and the same
# plain net with Xavier init, which does train without BN. Same number of steps for all; every
# (learning rate, seed) pair is one member of one batched model. "Final loss" is the mean of the
# last checkpoints; a run whose loss becomes non-finite is counted as diverged.

# %%
sw = cfg["lr_sweep"]
lrs = sw["lrs"]
SWEEP = {"plain": (False, None), "bn": (True, None), "plain_xavier": (False, "xavier")}
members = [s for _ in lrs for s in seeds]
member_lr = [lr for lr in lrs for _ in seeds]
final_by_seed: dict[str, list[list[float | None]]] = {}
for name, (bn, init) in SWEEP.items():
    nets = stack(io["depth"], io["width"], bn, members, init)
    hist = fit_stacked(
        nets,
        digits.x_train,
        digits.y_train,
        seeds=members,
        steps=sw["steps"],
        lr=member_lr,
        batch_size=io["batch_size"],
        log_every=sw["log_every"],
        log_from=sw["steps"] - sw["log_every"] * (sw["final_checkpoints"] - 1),
    )
    losses = torch.stack(hist.train_loss[-sw["final_checkpoints"] :])  # (checkpoints, members)
    ok = torch.isfinite(losses).all(dim=0)
    final = losses.mean(dim=0).view(len(lrs), len(seeds))
    ok = ok.view(len(lrs), len(seeds))
    final_by_seed[name] = [[float(v) if good else None for v, good in zip(r, g, strict=True)]
                           for r, g in zip(final.tolist(), ok.tolist(), strict=True)]  # fmt: skip

ch.results["learning_rates"] = lrs
ch.results["lr_sweep_size"] = len(lrs)
ch.results["lr_sweep_variants"] = list(SWEEP)
# final_loss_by_lr[variant][i]: mean over seeds at lrs[i]; None if any seed diverged
ch.results["final_loss_by_lr"] = {
    k: [None if None in row else mean(row) for row in rows] for k, rows in final_by_seed.items()
}
ch.results["final_loss_by_lr_by_seed"] = final_by_seed
ch.results["final_loss_by_lr_sd"] = {
    k: [None if None in row else sd(row) for row in rows] for k, rows in final_by_seed.items()
}
ch.results["diverged_by_lr"] = {
    k: [row.count(None) for row in rows] for k, rows in final_by_seed.items()
}
good_level = sw["good_loss"]
good = {k: [lr for lr, v in zip(lrs, vals, strict=True) if v is not None and v < good_level]
        for k, vals in ch.results["final_loss_by_lr"].items()}  # fmt: skip
best = {
    k: min((v, lr) for lr, v in zip(lrs, vals, strict=True) if v is not None)
    for k, vals in ch.results["final_loss_by_lr"].items()
}
ch.results["best_lr"] = {k: lr for k, (_, lr) in best.items()}
ch.results["best_final_loss"] = {k: v for k, (v, _) in best.items()}
ch.results["good_loss"] = good_level
# the learning rates at which the mean final loss is below `good_loss`, and the window's edges
ch.results["good_lr_count"] = {k: len(v) for k, v in good.items()}
ch.results["good_lr_window"] = {k: [v[0], v[-1]] if v else None for k, v in good.items()}
ch.results["max_finite_lr"] = {
    k: max((lr for lr, d in zip(lrs, div, strict=True) if d == 0), default=None)
    for k, div in ch.results["diverged_by_lr"].items()
}


def draw_lr_sweep(fig, tr):
    ax = fig.add_subplot()
    for name in SWEEP:
        rows = final_by_seed[name]
        pts = [(lr, r) for lr, r in zip(lrs, rows, strict=True) if None not in r]
        x = [lr for lr, _ in pts]
        m = [mean(r) for _, r in pts]
        lo = [mean(r) - min(r) for _, r in pts]
        hi = [max(r) - mean(r) for _, r in pts]
        c = color(name) if name in VARIANTS else PALETTE[4]
        ax.errorbar(
            x,
            m,
            yerr=[lo, hi],
            marker="o",
            markersize=4,
            capsize=3,
            color=c,
            linestyle="-" if name != "plain_xavier" else "--",
            label=tr(*LABEL[name]),
        )
        for lr, r in zip(lrs, rows, strict=True):
            if None in r:
                ax.plot([lr], [8.0], marker="x", color=c, markersize=7, linestyle="none")
    ax.axhline(good_level, color="#888888", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(tr("learning rate", "学习率"))
    ax.set_ylabel(tr(f"training loss after {sw['steps']} steps", f"{sw['steps']} 步后的训练损失"))
    ax.set_title(tr(f"3 hidden sigmoid layers, plain SGD ({len(seeds)} seeds; × = diverged)",
                    f"3 个 sigmoid 隐藏层，普通 SGD（{len(seeds)} 个种子；× 表示发散）"),
                 fontsize=10)  # fmt: skip
    ax.legend(fontsize=8)


ch.figure("lr_sweep", draw_lr_sweep)

# %% [markdown]
# ## 4. Forgetting `model.eval()`
#
# In training mode BN normalises with the statistics of the batch in front of it. On a test batch of
# two images those statistics are mostly noise, and each prediction depends on its batch-mates.
# (Batch statistics only: the running statistics are left as they are.)


# %%
@torch.no_grad()
def train_mode_accuracy(nets: StackedNet, batch_size: int) -> torch.Tensor:
    """Per seed: test accuracy when BN uses each test batch's own statistics (training mode)."""
    x, y = digits.x_test, digits.y_test
    n = len(x) - len(x) % batch_size
    hits = sum((nets(x[i : i + batch_size], stats="batch").argmax(dim=2) == y[i : i + batch_size])
               .double().sum(dim=1) for i in range(0, n, batch_size))  # fmt: skip
    return hits / n


pf = cfg["pitfall"]
publish_tree(ch.results, "pitfall_acc", {
    "eval_mode": final_acc["bn"],
    **{f"train_mode_batch_{b}": train_mode_accuracy(ioffe_nets["bn"], b) for b in pf["batch_sizes"]},
})  # fmt: skip

# %%
ch.finish()
