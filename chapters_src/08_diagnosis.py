# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 08 · Diagnosing vanishing, exploding and NaN
#
# Five experiments, each over the seeds of the config:
#
# 1. **Symptoms.** The same 8-layer digits net healthy (ReLU, He init), vanishing (sigmoid) and
#    exploding (learning rate too large): loss curves and per-layer gradient norms, the seeds
#    trained together as one batched model.
# 2. **The monitor.** `gradbook.diagnose.watch` on one run of each: gradient norms and update
#    ratios per layer, and the first non-finite value.
# 3. **Where NaNs come from.** Three sources, each caught by the monitor: exploding gradients, a
#    loss written by hand that takes log 0, and one training image with a NaN pixel; then
#    `torch.autograd.detect_anomaly` on the failing step.
# 4. **Pooling with stride larger than the kernel**, tested in torch.
# 5. **Noisy labels**: gradient norm and test accuracy with 0, 20% and 50% wrong labels.

# %%
import math
from collections import Counter

import torch
import torch.nn.functional as F

from gradbook import data, diagnose, seeds, spread
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import color
from gradbook.train import NonFiniteError

ch = Chapter.start(__file__)
cfg = ch.config
SEEDS = cfg["seeds"]
ch.results["seeds"] = SEEDS
digits = data.digits(seed=cfg["seed"])
x_train, y_train = digits.x_train, digits.y_train


def relu_net() -> MLP:
    return MLP.deep(64, cfg["width"], cfg["depth"], 10, activation="relu", init="kaiming")


# %% [markdown]
# ## A batched trainer
#
# Several nets (seeds, and settings such as learning rates or label sets) train side by side as
# one `StackedMLP`: member $i$ draws its minibatches as `fit(..., seed=s_i)` would, has its own
# labels `ys[i]` and its own learning rate `lrs[i]`. A member whose loss turns non-finite keeps
# computing NaN without touching the others (their gradients do not depend on it), and we
# record the first step at which that happened.


# %%
def train_stacked(model, member_seeds, ys, lrs, steps):
    """Plain SGD on every member at once: per-step minibatch loss and weight-gradient norm."""
    params = [*model.weights, *model.biases]
    orders = [seeds.batch_order(len(x_train), cfg["batch_size"], s) for s in member_seeds]
    lr = torch.tensor(lrs, dtype=torch.float32)[:, None, None]
    losses, norms = [], []
    for _ in range(steps):
        idx = torch.stack([next(o) for o in orders])  # (members, batch)
        loss = seeds.seed_loss(model(x_train[idx]), ys.gather(1, idx))
        for p in params:
            p.grad = None
        loss.sum().backward()
        with torch.no_grad():
            squares = torch.stack([w.grad.flatten(1).pow(2).sum(1) for w in model.weights])
            norms.append(squares.sum(0).sqrt())
            for p in params:
                p.sub_(lr * p.grad)
        losses.append(loss.detach())
    return torch.stack(losses), torch.stack(norms)  # (steps, members) each


def first_bad_step(losses):
    """Per member, the first step (1-based) whose loss is not finite, or None."""
    bad = ~torch.isfinite(losses)
    return [int(b.nonzero()[0]) + 1 if b.any() else None for b in bad.T]


# %% [markdown]
# ## 1. Symptoms
#
# `fit_seeds` trains the seeds of one net together and records the loss on the whole training
# set every few steps and every layer's weight-gradient norm at every step.

# %%
symptoms = {}
for name, act, init in [
    ("healthy", "relu", "kaiming"),
    ("vanishing", cfg["vanishing"]["activation"], cfg["vanishing"]["init"]),
]:
    net = seeds.StackedMLP.from_seeds(
        lambda act=act, init=init: MLP.deep(
            64, cfg["width"], cfg["depth"], 10, activation=act, init=init
        ),
        SEEDS,
    )
    hist = seeds.fit_seeds(
        net, x_train, y_train, seeds=SEEDS, steps=cfg["symptom_steps"], lr=cfg["symptom_lr"],
        batch_size=cfg["batch_size"], log_every=cfg["symptom_log_every"],
    )  # fmt: skip
    early = torch.stack([g[: cfg["early_steps"]].mean(0) for g in hist.weight_grad_norm.values()])
    symptoms[name] = {
        "steps": hist.steps,
        "loss": torch.stack(hist.train_loss).T,  # (seeds, checkpoints)
        "early_grad": early.T,  # (seeds, layers)
        "acc": seeds.seed_accuracy(net, digits.x_test, digits.y_test),
    }

seeds.publish(ch.results, "symptom_train_loss", [s[-1] for s in symptoms["healthy"]["loss"]])
ch.results["symptom_loss_steps"] = symptoms["healthy"]["steps"]
for name, s in symptoms.items():
    seeds.publish(ch.results, f"early_grad_norm_{name}", s["early_grad"])
    seeds.publish(ch.results, f"final_loss_{name}", s["loss"][:, -3:].mean(1))
    seeds.publish(ch.results, f"test_acc_{name}", s["acc"])
    first_over_last = s["early_grad"][:, 0] / s["early_grad"][:, -1]
    seeds.publish(ch.results, f"early_grad_first_over_last_{name}", first_over_last)
    seeds.publish(ch.results, f"early_grad_last_over_first_{name}", 1 / first_over_last)

# %% [markdown]
# ## Exploding: the learning rate
#
# The healthy net again at growing learning rates, all seeds and rates as one stack. A member
# diverges when its minibatch loss stops being a finite number within the budget.

# %%
lrs = cfg["explode_lrs"]
members = [(lr, s) for lr in lrs for s in SEEDS]
stack = seeds.StackedMLP.from_seeds(relu_net, [s for _, s in members])
explode_loss, _ = train_stacked(
    stack, [s for _, s in members], y_train.expand(len(members), -1), [lr for lr, _ in members],
    cfg["explode_steps"],
)  # fmt: skip
bad_steps = first_bad_step(explode_loss)
diverged = {f"{lr:g}": [] for lr in lrs}
explode_curves = {f"{lr:g}": [] for lr in lrs}
for (lr, _), step, curve in zip(members, bad_steps, explode_loss.T, strict=True):
    diverged[f"{lr:g}"].append(step)
    explode_curves[f"{lr:g}"].append(curve)
ch.results["diverged_by_lr"] = {k: sum(s is not None for s in v) for k, v in diverged.items()}
ch.results["diverged_step_by_lr_by_seed"] = diverged
top = explode_curves[f"{cfg['explode_lr']:g}"]
ch.results["exploding_loss_step1"] = sum(float(c[0]) for c in top) / len(top)
ch.results["exploding_loss_last_finite_log10_min"] = min(
    math.log10(float(c[torch.isfinite(c)][-1])) for c in top
)
ch.results["diverged_by_lr"]

# %% [markdown]
# ## 2 and 3. The monitor, and where NaNs come from
#
# A training loop as one writes it, with the monitor attached in one line. It counts the
# updates, checks every module's output and every gradient on its way back, and stops
# `optimizer.step()` of the step that produced the first non-finite value, so the weights are
# left as they were before it. `run` returns the monitor and the last minibatch.


# %%
def run(net, x, y, lr, steps, seed, loss_fn=F.cross_entropy):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    batches = seeds.batch_order(len(x), cfg["batch_size"], seed)
    losses = []
    with diagnose.watch(net, opt) as mon:
        try:
            for _ in range(steps):
                idx = next(batches)
                loss = loss_fn(net(x[idx]), y[idx])
                losses.append(float(loss))
                opt.zero_grad()
                loss.backward()
                opt.step()
        except NonFiniteError:
            pass
    return mon, idx, losses


def naive_bce(logits, y):
    """Binary cross-entropy of ten sigmoid outputs, written as in a textbook."""
    p = torch.sigmoid(logits)
    t = F.one_hot(y, 10).to(p.dtype)
    return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).sum(1).mean()


def stable_bce(logits, y):
    return F.binary_cross_entropy_with_logits(logits, F.one_hot(y, 10).to(logits.dtype), reduction="none").sum(1).mean()  # fmt: skip


x_bad = x_train.clone()
x_bad[cfg["bad_input_rows"], cfg["bad_input_pixel"]] = float("nan")  # a missing pixel
sources = {
    "exploding": dict(x=x_train, lr=cfg["explode_lr"], steps=cfg["explode_steps"]),
    "bad_loss": dict(x=x_train, lr=cfg["bad_loss_lr"], steps=cfg["bad_loss_steps"],
                     loss_fn=naive_bce),
    "bad_input": dict(x=x_bad, lr=cfg["bad_input_lr"], steps=cfg["bad_input_steps"]),
}  # fmt: skip
nan_step, blamed, events, monitors, anomaly = {}, {}, {}, {}, {}
for source, kw in sources.items():
    nan_step[source], blamed[source], events[source] = [], [], []
    for s in SEEDS:
        torch.manual_seed(s)
        net = relu_net()
        mon, idx, losses = run(net, y=y_train, seed=s, **kw)
        e = mon.first
        nan_step[source].append(None if e is None else e.step)
        blamed[source].append(None if e is None else e.blamed)
        events[source].append(None if e is None else vars(e))
        if s == SEEDS[0]:
            monitors[source] = (mon, losses)
            # The weights are those before the bad update: replay the step in anomaly mode.
            if e is not None:
                loss_fn = kw.get("loss_fn", F.cross_entropy)
                try:
                    with torch.autograd.detect_anomaly():
                        loss_fn(net(kw["x"][idx]), y_train[idx]).backward()
                    anomaly[source] = None
                except RuntimeError as err:
                    anomaly[source] = str(err).split(".")[0]
                if source == "bad_loss":
                    with torch.no_grad():
                        logits = net(x_train[idx])
                    ch.results["bad_loss_max_logit"] = float(logits.max())
                    row, col = divmod(int(logits.argmax()), logits.shape[1])
                    ch.results["bad_loss_max_logit_is_label"] = col == int(y_train[idx][row])
                    ch.results["bad_loss_stable_value"] = float(stable_bce(logits, y_train[idx]))
                if source == "bad_input":  # one unguarded update: how much does it poison?
                    opt = torch.optim.SGD(net.parameters(), lr=kw["lr"])
                    opt.zero_grad()
                    F.cross_entropy(net(kw["x"][idx]), y_train[idx]).backward()
                    opt.step()
                    flat = torch.cat([p.detach().flatten() for p in net.parameters()])
                    ch.results["bad_input_nan_weight_share"] = float(flat.isnan().double().mean())


def expected_input_step(seed):
    """The first minibatch of `fit(..., seed=seed)` that contains a corrupted row."""
    batches = seeds.batch_order(len(x_train), cfg["batch_size"], seed)
    for step in range(1, cfg["bad_input_steps"] + 1):
        if any(r in next(batches) for r in cfg["bad_input_rows"]):
            return step
    return None


def most_common(values):
    return Counter(values).most_common(1)[0][0]


for source, steps in nan_step.items():
    if any(s is None for s in steps):
        raise RuntimeError(f"{source}: a seed stayed finite within the budget: {steps}")
seeds.publish(
    ch.results, "nan_step", [{k: v[i] for k, v in nan_step.items()} for i in range(len(SEEDS))]
)
ch.results["nan_blamed"] = {k: most_common(v) for k, v in blamed.items()}
ch.results["nan_blamed_by_seed"] = blamed
ch.results["nan_event_by_seed"] = events
ch.results["nan_step_range"] = {k: [min(v), max(v)] for k, v in nan_step.items()}
ch.results["bad_input_expected_step_by_seed"] = [expected_input_step(s) for s in SEEDS]
ch.results["bad_input_step_is_first_batch_with_it"] = (
    ch.results["bad_input_expected_step_by_seed"] == nan_step["bad_input"]
)
ch.results["anomaly_message"] = anomaly
ch.results["nan_step"], ch.results["nan_blamed"]

# %% [markdown]
# The monitor's statistics for seed 0 of the exploding run and, for contrast, of the healthy and
# vanishing nets over the same number of steps (one run each: this is a picture of one
# trajectory, not a measurement over seeds).

# %%
watched = {"exploding": monitors["exploding"][0]}
for name, act, init in [
    ("healthy", "relu", "kaiming"),
    ("vanishing", cfg["vanishing"]["activation"], cfg["vanishing"]["init"]),
]:
    torch.manual_seed(SEEDS[0])
    net = MLP.deep(64, cfg["width"], cfg["depth"], 10, activation=act, init=init)
    watched[name] = run(net, x_train, y_train, cfg["symptom_lr"], cfg["early_steps"], SEEDS[0])[0]


def finite(values):
    """The numbers of a history, with overflowed ones as None (results.json holds finite only)."""
    return [v if math.isfinite(v) else None for v in values]


ch.results["monitor_update_ratio"] = {
    name: {layer: finite(v) for layer, v in mon.history("update_ratio").items()}
    for name, mon in watched.items()
}
ch.results["monitor_weight_norm_exploding"] = {
    layer: finite(v) for layer, v in watched["exploding"].history("weight_norm").items()
}
ch.results["monitor_grad_norm_exploding"] = {
    layer: finite(v) for layer, v in watched["exploding"].history("grad_norm").items()
}
ch.results["monitor_update_ratio_first_step"] = {
    name: {layer: v[0] for layer, v in mon.history("update_ratio").items()}
    for name, mon in watched.items()
}

first_step = ch.results["monitor_update_ratio_first_step"]
ch.results["exploding_first_update_ratio_min"] = min(first_step["exploding"].values())
ch.results["update_ratio_output_over_first_vanishing"] = (
    first_step["vanishing"]["output"] / first_step["vanishing"]["hidden1"]
)

# %% [markdown]
# ## 4. Pooling with stride larger than the kernel
#
# Max and average pooling in every combination of kernel, stride (kernel + 1 to kernel + 3),
# padding, `ceil_mode` and `count_include_pad`, forward and backward, in float32. We also count
# the share of inputs that no window covers: they get zero gradient, which is what a stride
# larger than the kernel really does.
#
# The claim in its old form came from frameworks that size the output with a ceiling and then
# let the last window start outside the input: an empty window, whose average is 0/0. Torch drops
# such a window (its output-size rule requires the last window to start inside the input or the
# left padding); we count, for the same configurations, how many windows that rule removes.


# %%
def pool_windows(n, k, s, p, ceil):
    """Output length with and without torch's rule that the last window starts inside."""
    raw = (n + 2 * p - k + ((s - 1) if ceil else 0)) // s + 1
    kept = raw - 1 if ceil and (raw - 1) * s >= n + p else raw
    return raw, kept


torch.manual_seed(cfg["seed"])
x_pool = torch.randn(*cfg["pool_input"], requires_grad=True)
n = cfg["pool_input"][-1]
pool_tests, any_nan, dropped, uncovered = 0, False, 0, []
for k in cfg["pool_kernels"]:
    for extra in cfg["pool_extra_stride"]:
        s = k + extra
        for p in cfg["pool_paddings"]:
            if p > k // 2:  # torch refuses padding larger than half the kernel
                continue
            for ceil in (False, True):
                raw, kept = pool_windows(n, k, s, p, ceil)
                dropped += raw - kept
                for kind, cip in [("max", None), ("avg", True), ("avg", False)]:
                    x_pool.grad = None
                    if kind == "max":
                        y = F.max_pool2d(x_pool, k, s, p, ceil_mode=ceil)
                    else:
                        y = F.avg_pool2d(x_pool, k, s, p, ceil_mode=ceil, count_include_pad=cip)
                    y.square().sum().backward()
                    pool_tests += 1
                    finite = bool(torch.isfinite(y).all() and torch.isfinite(x_pool.grad).all())
                    any_nan = any_nan or not finite
                    if kind == "avg" and cip:
                        uncovered.append(float((x_pool.grad == 0).double().mean()))

# The empty window itself, as a framework that keeps it would compute its average:
empty = torch.zeros(0)
ch.results["torch_version"] = torch.__version__.split("+")[0]
ch.results["pool_stride_gt_kernel_nan"] = any_nan
ch.results["pool_configs_tested"] = pool_tests
ch.results["pool_windows_dropped_by_torch"] = dropped
ch.results["pool_uncovered_share_max"] = max(uncovered)
ch.results["empty_window_average_is_nan"] = bool(torch.isnan(empty.sum() / empty.numel()))
ch.results["pool_stride_gt_kernel_nan"], pool_tests, dropped

# %% [markdown]
# ## 5. Noisy labels
#
# A share of the training labels (0, 20% and 50%) is replaced by a random *other* class, drawn
# per seed; the test labels stay clean. A smaller net (3 hidden ReLU layers of width 64, He init)
# trains with plain SGD, all levels and seeds as one stack. We record the norm of the minibatch
# gradient of the weights at every step and the test accuracy at the end.


# %%
def noisy_labels(y, share, seed):
    g = torch.Generator().manual_seed(10_000 + seed)
    wrong = torch.randperm(len(y), generator=g)[: round(share * len(y))]
    shift = torch.randint(1, 10, (len(wrong),), generator=g)
    out = y.clone()
    out[wrong] = (y[wrong] + shift) % 10
    return out


levels = cfg["noise_levels"]
members = [(q, s) for q in levels for s in SEEDS]
ys = torch.stack([noisy_labels(y_train, q, s) for q, s in members])
stack = seeds.StackedMLP.from_seeds(
    lambda: MLP.deep(64, cfg["noise_width"], cfg["noise_depth"], 10, init="kaiming"),
    [s for _, s in members],
)
noise_loss, noise_norm = train_stacked(
    stack, [s for _, s in members], ys, [cfg["noise_lr"]] * len(members), cfg["noise_steps"]
)
acc = seeds.seed_accuracy(stack, digits.x_test, digits.y_test)
with torch.no_grad():
    fit_noisy = (stack(x_train).argmax(2) == ys).double().mean(1).tolist()
w = cfg["noise_window"]
curve = noise_norm.T.reshape(len(members), -1, w).mean(2)  # (members, windows)
tail = noise_norm[-len(noise_norm) // 3 :]
cv = (tail.std(0) / tail.mean(0)).tolist()


def by_level(values):
    """Per-member values -> per seed, a dict over noise levels."""
    table = {f"{q:g}": [] for q in levels}
    for (q, _), v in zip(members, values, strict=True):
        table[f"{q:g}"].append(v)
    return [{k: v[i] for k, v in table.items()} for i in range(len(SEEDS))]


seeds.publish(ch.results, "grad_norm_by_label_noise", by_level(noise_norm.mean(0).tolist()))
seeds.publish(ch.results, "test_acc_by_label_noise", by_level(acc))
mean_norm = noise_norm.mean(0).tolist()
clean = {s: v for (q, s), v in zip(members, mean_norm, strict=True) if q == 0}
ratio = [v / clean[s] for (_, s), v in zip(members, mean_norm, strict=True)]
seeds.publish(ch.results, "grad_norm_over_clean_by_label_noise", by_level(ratio))
seeds.publish(ch.results, "train_fit_noisy_labels_by_label_noise", by_level(fit_noisy))
seeds.publish(ch.results, "grad_norm_cv_last_third_by_label_noise", by_level(cv))
seeds.publish(ch.results, "grad_norm_curve_by_label_noise", by_level(curve.tolist()))
ch.results["grad_norm_curve_steps"] = [w * (i + 1) for i in range(curve.shape[1])]
ch.results["grad_norm_by_label_noise"], ch.results["test_acc_by_label_noise"]

# %% [markdown]
# ## Figures

# %%
NAMES = {
    "healthy": ("healthy: ReLU, He init", "正常：ReLU，He 初始化"),
    "vanishing": ("vanishing: sigmoid, Xavier init", "梯度消失：sigmoid，Xavier 初始化"),
    "exploding": ("exploding: ReLU, He init, lr 2", "梯度爆炸：ReLU，He 初始化，学习率 2"),
}
COLORS = {"healthy": color("relu"), "vanishing": color("sigmoid"), "exploding": color("", 5)}


def draw_symptoms(fig, tr):
    flat, jump, per_layer = fig.subplots(1, 3)
    for name in ("healthy", "vanishing"):
        s = symptoms[name]
        spread.band(flat, s["steps"], s["loss"].tolist(), COLORS[name], tr(*NAMES[name]))
    flat.set_yscale("log")
    flat.set_ylabel(tr("training loss", "训练损失"))
    flat.set_title(tr("Loss: flat or falling", "损失：停滞或下降"), fontsize=10)
    flat.legend(fontsize=6, loc="lower left")
    for curve in explode_curves[f"{cfg['explode_lr']:g}"]:
        finite = curve[torch.isfinite(curve)]
        jump.plot(range(1, len(finite) + 1), finite, color=COLORS["exploding"], linewidth=1)
        jump.plot(len(finite), finite[-1], "x", color=COLORS["exploding"])
    jump.set_yscale("log")
    jump.set_title(
        tr(f"lr {cfg['explode_lr']:g}: loss jumps (× last finite)",
           f"学习率 {cfg['explode_lr']:g}：损失暴涨（× 为最后的有限值）"), fontsize=9,
    )  # fmt: skip
    for ax in (flat, jump):
        ax.set_xlabel(tr("SGD step", "SGD 步数"))
    layers = list(range(1, cfg["depth"] + 2))
    for name in ("healthy", "vanishing"):
        spread.band(per_layer, layers, symptoms[name]["early_grad"].tolist(), COLORS[name], "")
    per_layer.set_yscale("log")
    per_layer.set_xticks(layers, [str(i) for i in layers[:-1]] + [tr("out", "输出")], fontsize=7)
    per_layer.set_xlabel(tr("layer (input → output)", "层（输入 → 输出）"))
    per_layer.set_ylabel(r"$\|\partial L / \partial W\|$")
    per_layer.set_title(
        tr(f"Per layer, mean of steps 1–{cfg['early_steps']}",
           f"各层梯度，第 1–{cfg['early_steps']} 步均值"), fontsize=9,
    )  # fmt: skip


def draw_update_ratio(fig, tr):
    axes = fig.subplots(1, 3, sharey=True)
    for ax, name in zip(axes, ("healthy", "vanishing", "exploding"), strict=True):
        hist = watched[name].history("update_ratio")
        for i, (layer, values) in enumerate(hist.items()):
            label = tr("out", "输出") if layer == "output" else layer.removeprefix("hidden")
            ax.plot(range(1, len(values) + 1), values, color=color("", i), linewidth=1,
                    label=label)  # fmt: skip
        ax.set_yscale("log")
        ax.axhline(1e-3, color="#999999", linestyle=":", linewidth=1)
        ax.set_title(tr(*NAMES[name]).split("：")[0].split(":")[0], fontsize=10)
        ax.set_xlabel(tr("SGD step", "SGD 步数"))
    axes[0].set_ylabel(r"$\|\Delta W\| / \|W\|$")
    axes[-1].legend(
        fontsize=6, ncols=2, title=tr("layer", "层"), title_fontsize=6, loc="upper left"
    )
    fig.suptitle(
        tr("Update ratio per layer (seed 0; dotted: 10⁻³)", "各层的更新比例（种子 0；点线：10⁻³）"),
        fontsize=11,
    )


def draw_nan_sources(fig, tr):
    ax = fig.add_subplot()
    keys = list(nan_step)
    labels = {
        "exploding": tr("exploding\n(lr 2)", "梯度爆炸\n（学习率 2）"),
        "bad_loss": tr("log 0 in the loss\n(hand-written BCE)", "损失中的 log 0\n（手写 BCE）"),
        "bad_input": tr("one NaN pixel\nin the data", "数据中的\n一个 NaN 像素"),
    }
    per_seed = [[float(v) for v in nan_step[k]] for k in keys]
    spread.bars(ax, [labels[k] for k in keys], list(zip(*per_seed, strict=True)), color("plain"))
    for i, k in enumerate(keys):
        where = ch.results["nan_blamed"][k].replace("layers.", "")
        for en, zh in [("forward", "前向"), ("loss", "损失"), ("input", "输入")]:
            where = where.replace(en, tr(en, zh))
        where = where.replace(": ", tr(": ", "："))
        ax.annotate(tr("blamed: ", "指向：") + where, (i, max(per_seed[i])), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=7)  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylabel(tr("first step with a non-finite value", "首次出现非有限值的步数"))
    ax.set_title(tr("Where the NaN came from, and when", "NaN 从哪里来，何时出现"))
    ax.margins(y=0.25)


def draw_explode_by_lr(fig, tr):
    ax = fig.add_subplot()
    keys = list(diverged)
    counts = [ch.results["diverged_by_lr"][k] for k in keys]
    ax.bar(keys, counts, color=COLORS["exploding"])
    for i, k in enumerate(keys):
        steps = [s for s in diverged[k] if s is not None]
        if steps:
            note = tr(f"step {min(steps)}–{max(steps)}", f"第 {min(steps)}–{max(steps)} 步")
            ax.annotate(note, (i, counts[i]), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8)  # fmt: skip
    ax.set_ylim(0, len(SEEDS) + 0.8)
    ax.set_xlabel(tr("learning rate", "学习率"))
    ax.set_ylabel(tr(f"seeds (of {len(SEEDS)}) that reached NaN", f"出现 NaN 的种子数（共 {len(SEEDS)} 个）"))  # fmt: skip
    ax.set_title(
        tr(f"{cfg['depth']} hidden ReLU layers, He init, {cfg['explode_steps']} steps",
           f"{cfg['depth']} 个 ReLU 隐藏层，He 初始化，{cfg['explode_steps']} 步"),
    )  # fmt: skip


def draw_label_noise(fig, tr):
    left, right = fig.subplots(1, 2)
    steps = ch.results["grad_norm_curve_steps"]
    per_level = {f"{q:g}": [] for q in levels}
    for (q, _), row in zip(members, curve.tolist(), strict=True):
        per_level[f"{q:g}"].append(row)
    for i, (k, rows) in enumerate(per_level.items()):
        spread.band(
            left, steps, rows, color("", i), tr(f"{float(k):.0%} wrong", f"{float(k):.0%} 错误")
        )
    left.set_yscale("log")
    left.set_xlabel(tr("SGD step", "SGD 步数"))
    left.set_ylabel(tr("minibatch gradient norm", "小批量梯度范数"))
    left.legend(fontsize=8)
    keys = [f"{q:g}" for q in levels]
    names = [f"{q:.0%}" for q in levels]
    test = ch.results["test_acc_by_label_noise_by_seed"]
    fit = ch.results["train_fit_noisy_labels_by_label_noise_by_seed"]
    spread.bars(right, names, list(zip(*[test[k] for k in keys], strict=True)), color("relu"),
                tr("test (clean labels)", "测试集（标签正确）"))  # fmt: skip
    right.plot(names, [sum(fit[k]) / len(fit[k]) for k in keys], "o--", color="#333333",
               label=tr("fit to the noisy training labels", "对训练标签（含错误标签）的拟合"))  # fmt: skip
    right.set_ylim(0, 1.35)
    right.set_xlabel(tr("share of wrong training labels", "训练标签中错误的比例"))
    right.set_ylabel(tr("accuracy", "准确率"))
    right.legend(fontsize=7, loc="upper right")
    fig.suptitle(tr(f"Label noise ({cfg['noise_depth']} hidden ReLU layers, {len(SEEDS)} seeds)", f"标签噪声（{cfg['noise_depth']} 个 ReLU 隐藏层，{len(SEEDS)} 个种子）"), fontsize=11)  # fmt: skip


ch.figure("symptoms", draw_symptoms, figsize=(7.6, 3.2))
ch.figure("update_ratio", draw_update_ratio, figsize=(7.0, 3.0))
ch.figure("nan_sources", draw_nan_sources)
ch.figure("explode_by_lr", draw_explode_by_lr)
ch.figure("label_noise", draw_label_noise, figsize=(7.0, 3.4))
ch.finish()
