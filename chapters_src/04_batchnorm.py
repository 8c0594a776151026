# %% [markdown]
# # 04 Batch normalisation
#
# 1. **Ioffe & Szegedy's figure 1, on digits.** Three hidden layers of 100 sigmoid units, batch 60,
#    with and without batch norm. During training we watch the 15th, 50th and 85th percentiles of
#    the input to the last hidden layer's sigmoids, and the test accuracy at the end.
# 2. **Depth.** The same recipe with 20 hidden sigmoid layers.
# 3. **Learning rates.** A sweep over the step size, with and without batch norm.
# 4. **A pitfall.** The trained BN net evaluated with batch statistics of small test batches
#    (training mode) instead of its running statistics (evaluation mode).

# %%
from __future__ import annotations

import copy

import torch

from gradbook import data
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import color
from gradbook.train import NonFiniteError, evaluate, fit

ch = Chapter.start(__file__)
cfg = ch.config
digits = data.digits(seed=ch.seed)
VARIANTS = {"plain": False, "bn": True}


def make_net(depth: int, width: int, bn: bool) -> MLP:
    """A sigmoid MLP with PyTorch's default init, batch norm before every sigmoid if `bn`."""
    torch.manual_seed(ch.seed)  # the same weights for both variants
    return MLP.deep(
        digits.n_features, width, depth, digits.n_classes, activation="sigmoid", batch_norm=bn
    )


# %% [markdown]
# ## 1. The distribution a sigmoid sees, during training
#
# At each checkpoint we run the test set through the net in evaluation mode and record, for every
# unit of the last hidden layer, the 15th/50th/85th percentile of its input over the test images.
# The median over units of each percentile is our "typical sigmoid".


# %%
@torch.no_grad()
def typical_percentiles(net: MLP, x: torch.Tensor, qs: list[float]) -> list[float]:
    """Per-unit percentiles of the last hidden layer's pre-activation, median over the units."""
    point = net.probe_points()[net.hidden_names[-1]]
    seen: list[torch.Tensor] = []
    handle = point.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    was_training = net.training
    net.eval()
    net(x)
    net.train(was_training)
    handle.remove()
    per_unit = torch.quantile(seen[0], torch.tensor([q / 100 for q in qs]), dim=0)  # (q, units)
    return per_unit.median(dim=1).values.tolist()


io = cfg["ioffe"]
percentiles: dict[str, list[list[float]]] = {}
test_acc: dict[str, float] = {}
ioffe_nets: dict[str, MLP] = {}
checkpoints: list[int] = []
for name, bn in VARIANTS.items():
    net = make_net(io["depth"], io["width"], bn)
    track: list[list[float]] = []
    steps_seen: list[int] = []

    def checkpoint(step: int, model: MLP, track=track, steps_seen=steps_seen) -> None:
        if step % io["checkpoint_every"] == 0:
            track.append(typical_percentiles(model, digits.x_test, io["percentiles"]))
            steps_seen.append(step)

    fit(
        net, digits.x_train, digits.y_train, steps=io["steps"], lr=io["lr"],
        batch_size=io["batch_size"], log_every=io["steps"], seed=ch.seed, on_step=checkpoint,
    )  # fmt: skip
    percentiles[name], checkpoints = track, steps_seen
    test_acc[name] = evaluate(net, digits.x_test, digits.y_test).accuracy
    ioffe_nets[name] = net
ch.results["checkpoint_steps"] = checkpoints
ch.results["percentiles"] = percentiles
ch.results["test_acc"] = test_acc
# How far the typical sigmoid's input moved between the first and the last checkpoint
ch.results["median_drift"] = {k: v[-1][1] - v[0][1] for k, v in percentiles.items()}
ch.results["spread_first_last"] = {
    k: [v[0][2] - v[0][0], v[-1][2] - v[-1][0]] for k, v in percentiles.items()
}


def draw_percentiles(fig, tr):
    axes = fig.subplots(1, 2, sharey=True)
    titles = {"plain": tr("without BN", "无批量归一化"), "bn": tr("with BN", "有批量归一化")}
    for ax, name in zip(axes, VARIANTS, strict=True):
        rows = percentiles[name]
        for j, q in enumerate(io["percentiles"]):
            ax.plot(checkpoints, [r[j] for r in rows], color=color(name), lw=2.5 if q == 50 else 1.2,
                    linestyle="-" if q == 50 else "--")  # fmt: skip
        ax.set_title(titles[name])
        ax.set_xlabel(tr("SGD step", "SGD 步数"))
    axes[0].set_ylabel(tr("input to a sigmoid (15/50/85 %)", "sigmoid 的输入（15/50/85 分位）"))


ch.figure("percentiles", draw_percentiles)

# %% [markdown]
# ## 2. Twenty sigmoid layers
#
# Without normalisation the gradient shrinks by at least 4x per sigmoid layer (chapter 02). With
# batch norm each layer's input is re-centred and re-scaled to the sigmoid's steep middle.

# %%
dp = cfg["deep"]
deep_test_acc: dict[str, float] = {}
deep_curves: dict[str, list[float]] = {}
deep_steps: list[int] = []
for name, bn in VARIANTS.items():
    net = make_net(dp["depth"], dp["width"], bn)
    hist = fit(
        net, digits.x_train, digits.y_train, steps=dp["steps"], lr=dp["lr"],
        batch_size=dp["batch_size"], log_every=dp["log_every"], seed=ch.seed,
    )  # fmt: skip
    deep_curves[name], deep_steps = hist.train_loss, hist.steps
    deep_test_acc[name] = evaluate(net, digits.x_test, digits.y_test).accuracy
ch.results["deep_test_acc"] = deep_test_acc
ch.results["deep_train_loss_curve"] = {"steps": deep_steps, **deep_curves}


def draw_deep(fig, tr):
    ax = fig.add_subplot()
    label = {"plain": tr("without BN", "无批量归一化"), "bn": tr("with BN", "有批量归一化")}
    for name in VARIANTS:
        ax.plot(deep_steps, deep_curves[name], label=label[name], color=color(name))
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("training loss (cross-entropy)", "训练损失（交叉熵）"))
    ax.set_title(tr("20 sigmoid layers on digits", "20 层 sigmoid 网络训练 digits"))
    ax.legend()


ch.figure("deep", draw_deep)

# %% [markdown]
# ## 3. A learning-rate sweep
#
# Same net as in section 1, same number of steps, one run per learning rate. A run whose loss
# becomes non-finite is recorded as None ("diverged").

# %%
sw = cfg["lr_sweep"]
final_loss_by_lr: dict[str, list[float | None]] = {}
for name, bn in VARIANTS.items():
    losses: list[float | None] = []
    for lr in sw["lrs"]:
        net = make_net(io["depth"], io["width"], bn)
        try:
            hist = fit(
                net, digits.x_train, digits.y_train, steps=sw["steps"], lr=lr,
                batch_size=io["batch_size"], log_every=sw["steps"], seed=ch.seed,
            )  # fmt: skip
            losses.append(hist.train_loss[-1])
        except NonFiniteError:
            losses.append(None)
    final_loss_by_lr[name] = losses
ch.results["learning_rates"] = sw["lrs"]
ch.results["lr_sweep_size"] = len(sw["lrs"])
ch.results["final_loss_by_lr"] = final_loss_by_lr
best = {
    k: min((v, lr) for lr, v in zip(sw["lrs"], losses, strict=True) if v is not None)
    for k, losses in final_loss_by_lr.items()
}
ch.results["best_lr"] = {k: lr for k, (_, lr) in best.items()}
ch.results["best_final_loss"] = {k: v for k, (v, _) in best.items()}
# The learning rates at which a run ends below a loss of 0.1: BN widens this window.
ch.results["good_lr_count"] = {
    k: sum(1 for v in losses if v is not None and v < 0.1) for k, losses in final_loss_by_lr.items()
}


def draw_lr_sweep(fig, tr):
    ax = fig.add_subplot()
    label = {"plain": tr("without BN", "无批量归一化"), "bn": tr("with BN", "有批量归一化")}
    for name in VARIANTS:
        pts = [
            (lr, v)
            for lr, v in zip(sw["lrs"], final_loss_by_lr[name], strict=True)
            if v is not None
        ]
        ax.plot(*zip(*pts, strict=True), marker="o", label=label[name], color=color(name))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(tr("learning rate", "学习率"))
    ax.set_ylabel(tr(f"training loss after {sw['steps']} steps", f"{sw['steps']} 步后的训练损失"))
    ax.set_title(tr("3 sigmoid layers, plain SGD", "3 层 sigmoid 网络，普通 SGD"))
    ax.legend()


ch.figure("lr_sweep", draw_lr_sweep)

# %% [markdown]
# ## 4. Forgetting `model.eval()`
#
# In training mode BN normalises with the statistics of the batch in front of it. On a test batch of
# two images those statistics are mostly noise, and each prediction depends on its batch-mates.


# %%
@torch.no_grad()
def train_mode_accuracy(net: MLP, batch_size: int) -> float:
    """Test accuracy when BN uses each test batch's own statistics (net left in training mode)."""
    net = copy.deepcopy(net).train()  # a copy: training mode also moves the running statistics
    x, y = digits.x_test, digits.y_test
    n = len(x) - len(x) % batch_size
    hits = sum(
        int((net(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
        for i in range(0, n, batch_size)
    )
    return hits / n


pf = cfg["pitfall"]
bn_net = ioffe_nets["bn"]
ch.results["pitfall_acc"] = {
    "eval_mode": test_acc["bn"],
    **{f"train_mode_batch_{b}": train_mode_accuracy(bn_net, b) for b in pf["batch_sizes"]},
}

# %%
ch.finish()
