# %% [markdown]
# # 07 Gradient clipping and the cliffs
#
# Two measurements:
#
# 1. **The cliff.** Pascanu et al.'s (2013) one-unit recurrent net, $x_t = w\,\sigma(x_{t-1}) + b$,
#    run for 50 steps, with the error $E = (\sigma(x_{50}) - 0.7)^2$. Over a grid of $(w, b)$ the
#    gradient is tiny almost everywhere and enormous on a few narrow ridges. How enormous depends on
#    how finely we look: we evaluate it on four nested grids and then zoom in across the steepest
#    ridge found.
# 2. **Clipping a diverging RNN.** A tanh RNN whose recurrent matrix has largest singular value 3,
#    plain SGD at learning rate 0.1 on the adding problem: without clipping it reaches NaN within
#    50 steps. The same net with clipping by global norm and by value, and three other brakes (weight
#    decay, a small learning rate, a well-scaled recurrent matrix), over 5 seeds trained together as
#    one batched model.

# %%
from __future__ import annotations

import math

import torch

from gradbook import clipping, data, seeds, spread
from gradbook.chapter import Chapter
from gradbook.plot import PALETTE
from gradbook.rnn import StackedRNN, scale_to_top_singular_value, seed_mse

ch = Chapter.start(__file__)
cfg = ch.config
SEEDS = cfg["seeds"]
ch.results["seeds"] = SEEDS


# %% [markdown]
# ## 1. The cliff of a one-unit recurrent net
#
# Every point of the grid is its own little network, so one tensor of shape (n, n) holds all of them
# and one backward pass gives $\partial E/\partial w$ and $\partial E/\partial b$ at every point
# (the points do not interact, so the gradient of the sum is the gradient at each point).

# %%
cl = cfg["cliff"]


def cliff_error(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """E(w, b) elementwise for x_t = w * sigmoid(x_{t-1}) + b, x_0 = cl["x0"], after cl["steps"]."""
    x = torch.full_like(w, cl["x0"])
    for _ in range(cl["steps"]):
        x = w * torch.sigmoid(x) + b
    return (torch.sigmoid(x) - cl["target"]) ** 2


def cliff_grad(w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(E, |grad E|) at every point of w, b (float64), a block of rows at a time.

    The points are independent, so blocks give exactly the values of one pass over the whole grid;
    they only keep autograd's memory (50 steps of intermediate tensors) small.
    """
    es, gs = [], []
    for wi, bi in zip(w.split(cl["block_rows"]), b.split(cl["block_rows"]), strict=True):
        wi, bi = wi.clone().requires_grad_(), bi.clone().requires_grad_()
        e = cliff_error(wi, bi)
        gw, gb = torch.autograd.grad(e.sum(), (wi, bi))
        es.append(e.detach())
        gs.append(torch.sqrt(gw**2 + gb**2))
    return torch.cat(es), torch.cat(gs)


def grid(n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    axis = torch.linspace(cl["low"], cl["high"], n, dtype=torch.float64)
    w, b = torch.meshgrid(axis, axis, indexing="ij")
    return axis, w, b


by_grid = {}
for n in cl["grids"]:
    axis, w, b = grid(n)
    _, g = cliff_grad(w, b)
    top = int(g.argmax())
    by_grid[str(n)] = {
        "max": float(g.max()),
        "median": float(g.median()),
        "max_over_median": float(g.max() / g.median()),
        "spacing": float(axis[1] - axis[0]),
        "argmax_w": float(axis[top // n]),
        "argmax_b": float(axis[top % n]),
    }
finest = by_grid[str(cl["grids"][-1])]
ch.results["cliff_grad_max_over_median"] = finest["max_over_median"]
ch.results["cliff_grid"] = cl["grids"][-1]
ch.results["cliff_by_grid"] = by_grid
ch.results["cliff_growth_coarsest_to_finest"] = finest["max"] / by_grid[str(cl["grids"][0])]["max"]

# %% [markdown]
# At $T = 50$, $E$ is a smooth function of $(w, b)$, so its gradient is finite everywhere; the
# question is only how narrow the ridge is. We hold $w$ at the finest grid's steepest point and zoom
# in along $b$, tenfold per zoom, each time around the steepest point of the last zoom.

# %%
w_star = torch.tensor(finest["argmax_w"], dtype=torch.float64)
centre, half = finest["argmax_b"], cl["zoom_start"]
zoom = []
for _ in range(cl["zooms"]):
    b_line = torch.linspace(centre - half, centre + half, cl["zoom_points"], dtype=torch.float64)
    _, g_line = cliff_grad(w_star.expand_as(b_line), b_line)
    centre = float(b_line[int(g_line.argmax())])
    zoom.append({"half_width": half, "max": float(g_line.max()), "argmax_b": centre})
    half /= 10
ch.results["cliff_zoom"] = zoom
ch.results["cliff_refined_max_over_median"] = zoom[-1]["max"] / finest["median"]
ch.results["cliff_refined_over_grid_max"] = zoom[-1]["max"] / finest["max"]

# The picture: E on a coarser grid, and E with its gradient along the cut through the ridge.
_, w_map, b_map = grid(cl["map_grid"])
e_map = cliff_error(w_map, b_map)
b_cut = torch.linspace(cl["low"], cl["high"], 4001, dtype=torch.float64)
e_cut, g_cut = cliff_grad(w_star.expand_as(b_cut), b_cut)
ch.results["cliff_cut_w"] = finest["argmax_w"]


def draw_cliff(fig, tr):
    left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
    im = left.imshow(
        e_map.T.numpy(), origin="lower", extent=(cl["low"], cl["high"], cl["low"], cl["high"]),
        cmap="viridis", aspect="equal", interpolation="nearest",
    )  # fmt: skip
    left.axvline(finest["argmax_w"], color="white", linewidth=0.8, linestyle="--")
    left.set_xlabel("w")
    left.set_ylabel("b")
    left.set_title(tr("E(w, b) after 50 steps", "50 步后的 E(w, b)"), fontsize=11)
    left.grid(False)
    fig.colorbar(im, ax=left, shrink=0.8)
    ns = [int(n) for n in by_grid]
    right.plot(ns, [by_grid[str(n)]["max"] for n in ns], marker="o", color=PALETTE[3],
               label=tr("max |∇E| on the grid", "网格上的 |∇E| 最大值"))  # fmt: skip
    right.plot(ns, [by_grid[str(n)]["median"] for n in ns], marker="o", color=PALETTE[0],
               label=tr("median |∇E|", "|∇E| 中位数"))  # fmt: skip
    right.axhline(zoom[-1]["max"], color=PALETTE[6], linestyle=":", linewidth=1.5,
                  label=tr("zoomed in across the ridge", "沿悬崖放大后"))  # fmt: skip
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xticks(ns, [str(n) for n in ns])
    right.minorticks_off()
    right.set_xlabel(tr("grid points per axis", "每个坐标轴上的网格点数"))
    right.set_title(tr("Max grows with the grid", "最大值随网格变细而增长"), fontsize=11)
    right.legend(fontsize=8, loc="center right")


def draw_cliff_cut(fig, tr):
    w_text = f"{finest['argmax_w']:.3g}".replace("-", "\N{MINUS SIGN}")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(b_cut.numpy(), e_cut.numpy(), color=PALETTE[0], linewidth=1.2)
    top.set_ylabel("E")
    top.set_title(
        tr(f"A cut at w = {w_text}", f"在 w = {w_text} 处的剖面"),
        fontsize=11,
    )
    bottom.plot(b_cut.numpy(), g_cut.numpy(), color=PALETTE[3], linewidth=1.2)
    bottom.set_yscale("log")
    bottom.set_ylabel("|∇E|")
    bottom.set_xlabel("b")


ch.figure("cliff", draw_cliff, figsize=(7.2, 3.4))
ch.figure("cliff_cut", draw_cliff_cut)

# %% [markdown]
# ## 2. Clipping a tanh RNN that explodes
#
# The model: $h_t = \tanh(x_t W_{ih} + h_{t-1} W_{hh} + b)$, $h_0 = 0$, and a linear read-out of
# $h_T$, on the adding problem (two marked values in a sequence of U[-1, 1] numbers; the target is
# $0.5 + (x_1 + x_2)/4$, and always answering 0.5 scores $1/24$). Every weight starts as PyTorch's
# `nn.RNN` and `nn.Linear` draw it (uniform in $\pm 1/\sqrt{H}$); then $W_{hh}$ is rescaled so that
# its largest singular value is `sigma`. The stacked model is `gradbook.rnn.StackedRNN`.
#
# Every variant of the config is run for every seed, and all of them are one model: each parameter
# is a (runs, ...) tensor and every time step is one `torch.baddbmm`. A run with seed s uses the
# same initial weights (up to the scale of $W_{hh}$) and the same mini-batches in every variant, so
# the variants differ only in what the config says. Clipping is per run: `gradbook.clipping` scales
# each run by its own global norm.

# %%
rc = cfg["rnn"]
VARIANTS = list(rc["variants"])
RUNS = [(v, s) for v in VARIANTS for s in SEEDS]  # run r = variant-major, seed-minor
H = rc["hidden"]


def per_run(name: str) -> torch.Tensor:
    """One config value per run, (runs,); a threshold of 0 means no clipping (inf)."""
    vals = [rc["variants"][v][name] for v, _ in RUNS]
    if name in ("max_norm", "clip_value"):
        vals = [x if x > 0 else math.inf for x in vals]
    return torch.tensor(vals)


# Run r starts from the nn.RNN + nn.Linear that PyTorch draws after manual_seed(seed of r); then its
# recurrent matrix is rescaled to the variant's largest singular value.
model = StackedRNN.from_seeds(n_in=2, n_hidden=H, n_out=1, seeds=[s for _, s in RUNS])
with torch.no_grad():
    model.w_hh.copy_(scale_to_top_singular_value(model.w_hh, per_run("sigma")))
params = [model.w_ih, model.w_hh, model.b_ih, model.b_hh, model.w_out, model.b_out]
N_RECURRENT = 4  # the first four are the recurrence (W_ih, W_hh, b_ih, b_hh), the rest the read-out


def forward(x: torch.Tensor) -> torch.Tensor:
    """x (runs, batch, T, 2) or (batch, T, 2) -> predictions (runs, batch)."""
    return model(x).squeeze(-1)


lr, wd = per_run("lr"), per_run("weight_decay")
max_norm, clip_value = per_run("max_norm"), per_run("clip_value")
x_train, y_train = data.adding_problem(rc["train_size"], rc["length"], seed=ch.seed + 1)
x_test, y_test = data.adding_problem(rc["test_size"], rc["length"], seed=ch.seed + 2)
orders = [torch.Generator().manual_seed(s) for s in SEEDS]
n_runs = len(RUNS)


def test_mse() -> torch.Tensor:
    with torch.no_grad():
        return seed_mse(forward(x_test), y_test)


def expand(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return t.view(-1, *[1] * (like.dim() - 1))


checkpoints, test_curve = [0], [test_mse()]
raw_norm, cosine, clipped_entries = [], [], []
group_norm = []  # per step: (2, runs) raw norms of the recurrent part and of the read-out
first_bad = [None] * n_runs
noclip_runs = [r for r, (v, _) in enumerate(RUNS) if v == "noclip"]
sigma_noclip = []  # per step: largest singular value of W_hh after the update, unclipped runs
for step in range(1, rc["steps"] + 1):
    idx = torch.stack([torch.randint(0, len(x_train), (rc["batch_size"],), generator=g)
                       for g in orders])  # fmt: skip
    idx = idx.repeat(len(VARIANTS), 1)  # the same mini-batch for seed s in every variant
    loss = seed_mse(forward(x_train[idx]), y_train[idx])
    for p in params:
        p.grad = None
    loss.sum().backward()  # run r's loss depends only on run r's weights
    with torch.no_grad():
        raw = [p.grad.clone() for p in params]
        group_norm.append(
            torch.stack(
                [clipping.seed_norms(raw[:N_RECURRENT]), clipping.seed_norms(raw[N_RECURRENT:])]
            )
        )
        raw_norm.append(clipping.clip_grad_norm_(params, max_norm))
        n_clamped = sum((p.grad.abs() > expand(clip_value, p.grad)).flatten(1).sum(1)
                        for p in params)  # fmt: skip
        clipping.clip_grad_value_(params, clip_value)
        cosine.append(clipping.grad_cosine(raw, [p.grad for p in params]))
        clipped_entries.append(n_clamped)
        for p in params:
            p.sub_(expand(lr, p) * (p.grad + expand(wd, p) * p))
        w_noclip = model.w_hh[noclip_runs].double()
        ok = torch.isfinite(w_noclip).flatten(1).all(1)
        top = torch.linalg.matrix_norm(torch.where(ok[:, None, None], w_noclip, 0.0), ord=2)
        sigma_noclip.append(torch.where(ok, top, torch.nan))
        finite = torch.isfinite(loss) & torch.stack(
            [torch.isfinite(p).flatten(1).all(1) for p in params]
        ).all(0)
    for r in range(n_runs):
        if first_bad[r] is None and not finite[r]:
            first_bad[r] = step
    if step % rc["eval_every"] == 0 or step == rc["steps"]:
        checkpoints.append(step)
        test_curve.append(test_mse())

raw_norm = torch.stack(raw_norm)  # (steps, runs)
cosine = torch.stack(cosine)
test_curve = torch.stack(test_curve)  # (checkpoints, runs)
group_norm = torch.stack(group_norm)  # (steps, 2, runs)
n_params = sum(p[0].numel() for p in params)


def runs_of(variant: str) -> list[int]:
    return [r for r, (v, _) in enumerate(RUNS) if v == variant]


# %% [markdown]
# What each run did. A run **diverged** if its loss or a weight became non-finite (inf or NaN) at
# some step; we keep the boolean per seed and publish under `diverged` the fraction of seeds that
# diverged. Its final loss is then undefined (stored as `null`); a variant's `final_loss` is the mean
# over the seeds that stayed finite, `null` if none did. The final loss of a run is its test MSE
# averaged over the last `final_checkpoints` checkpoints, not the last point of a noisy curve.

# %%
k = rc["final_checkpoints"]
diverged, diverged_by_seed, diverged_step, final_loss, final_by_seed = {}, {}, {}, {}, {}
for v in VARIANTS:
    rs = runs_of(v)
    bad = [first_bad[r] is not None for r in rs]
    diverged_by_seed[v] = bad
    diverged[v] = seeds.mean([float(x) for x in bad])
    diverged_step[v] = [first_bad[r] for r in rs]
    finals = [None if first_bad[r] is not None else float(test_curve[-k:, r].mean()) for r in rs]
    final_by_seed[v] = finals
    ok = [x for x in finals if x is not None]
    final_loss[v] = seeds.mean(ok) if ok else None
ch.results["diverged"] = diverged
ch.results["diverged_by_seed"] = diverged_by_seed
ch.results["diverged_count"] = {v: sum(b) for v, b in diverged_by_seed.items()}
ch.results["diverged_step_by_seed"] = diverged_step
ch.results["diverged_step_range"] = {  # over the seeds that diverged
    v: [min(x for x in xs if x is not None), max(x for x in xs if x is not None)]
    for v, xs in diverged_step.items()
    if any(x is not None for x in xs)
}
ch.results["final_loss"] = final_loss
ch.results["final_loss_by_seed"] = final_by_seed
ch.results["final_loss_sd"] = {
    v: seeds.sd([x for x in xs if x is not None]) if any(x is not None for x in xs) else None
    for v, xs in final_by_seed.items()
}
baseline = float(((y_test - 0.5) ** 2).mean())
ch.results["adding_baseline_mse"] = baseline
ch.results["final_loss_over_baseline"] = {
    v: None if x is None else x / baseline for v, x in final_loss.items()
}
ch.results["below_baseline_count"] = {
    v: sum(x is not None and x < baseline for x in xs) for v, xs in final_by_seed.items()
}
ch.results["n_params"] = n_params

# %% [markdown]
# The cosine between the raw gradient and the gradient actually used, per step, averaged over the
# steps of each seed's clipped run; for clipping by value also the share of entries it clamped, and
# for both the share of steps on which the threshold bit. The raw gradient norm of the clipped run
# tells us whether the cliffs went away (they do not) and what a "typical" norm is.

# %%
clip_runs = {"norm": runs_of("clip_norm"), "value": runs_of("clip_value")}
cos_by_seed = {m: [float(cosine[:, r].double().mean()) for r in rs] for m, rs in clip_runs.items()}
seeds.publish(ch.results, "clip_cosine", [{m: xs[i] for m, xs in cos_by_seed.items()}
                                          for i in range(len(SEEDS))])  # fmt: skip
ch.results["clip_cosine_range"] = {m: [min(xs), max(xs)] for m, xs in cos_by_seed.items()}
# Where does clipping by value turn the step most? The cosine on each seed's steps with the largest
# raw gradient norms, against its mean over all steps.
cos_top = []
for r in clip_runs["value"]:
    steepest = torch.topk(raw_norm[:, r], rc["top_steps"]).indices
    cos_top.append(float(cosine[steepest, r].double().mean()))
ch.results["clip_value_cosine_top_norm_steps_by_seed"] = cos_top
ch.results["clip_value_cosine_top_norm_steps"] = seeds.mean(cos_top)
ch.results["clip_cosine_min"] = {m: float(cosine[:, rs].min()) for m, rs in clip_runs.items()}
entries = torch.stack(clipped_entries).double() / n_params  # (steps, runs)
ch.results["value_clamped_entries_by_seed"] = [
    float(entries[:, r].mean()) for r in clip_runs["value"]
]
ch.results["value_clamped_entries"] = seeds.mean(ch.results["value_clamped_entries_by_seed"])
norm_limit = rc["variants"]["clip_norm"]["max_norm"]
active_norm = [float((raw_norm[:, r] > norm_limit).double().mean()) for r in clip_runs["norm"]]
active_value = [float((entries[:, r] > 0).double().mean()) for r in clip_runs["value"]]
ch.results["clip_active_steps"] = {
    "norm": seeds.mean(active_norm),
    "value": seeds.mean(active_value),
}
ch.results["clip_active_steps_by_seed"] = {"norm": active_norm, "value": active_value}
med = [float(raw_norm[:, r].median()) for r in clip_runs["norm"]]
ratio = [float(raw_norm[:, r].max() / raw_norm[:, r].median()) for r in clip_runs["norm"]]
ch.results["clip_norm_raw_median"] = seeds.mean(med)
ch.results["clip_norm_raw_median_by_seed"] = med
ch.results["clip_norm_raw_max_over_median"] = seeds.mean(ratio)
ch.results["clip_norm_raw_max_over_median_by_seed"] = ratio
ch.results["clip_norm_raw_max_over_median_range"] = [min(ratio), max(ratio)]
first10 = [float(raw_norm[:10, r].median()) for r in runs_of("noclip")]
ch.results["noclip_raw_norm_first10_median_by_seed"] = first10
ch.results["noclip_raw_norm_first10_median"] = seeds.mean(first10)
# Which part of the unclipped net blows up first: the recurrent weights or the linear read-out?
peak_step, readout_share, recurrent_last = [], [], []
for r in runs_of("noclip"):
    last = (first_bad[r] or rc["steps"] + 1) - 2  # index of the last step whose loss was finite
    rec = group_norm[: last + 1, 0, r]
    peak_step.append(int(rec.argmax()) + 1)
    readout_share.append(float(group_norm[last, 1, r] / raw_norm[last, r]))
    recurrent_last.append(float(group_norm[last, 0, r]))
sigma_noclip = torch.stack(sigma_noclip)  # (steps, seeds)
ch.results["noclip_sigma_after_peak_by_seed"] = [
    float(sigma_noclip[step - 1, i]) for i, step in enumerate(peak_step)
]
ch.results["noclip_sigma_after_peak_range"] = [
    min(ch.results["noclip_sigma_after_peak_by_seed"]),
    max(ch.results["noclip_sigma_after_peak_by_seed"]),
]
ch.results["noclip_recurrent_norm_last_finite_by_seed"] = recurrent_last
ch.results["noclip_recurrent_peak_step_by_seed"] = peak_step
ch.results["noclip_recurrent_peak_step_range"] = [min(peak_step), max(peak_step)]
ch.results["noclip_readout_share_last_finite_by_seed"] = readout_share
ch.results["noclip_readout_share_last_finite"] = seeds.mean(readout_share)
# Did training repair the recurrent matrix? Its largest singular value at the end, per finite run.
finite_variants = [v for v in VARIANTS if not any(diverged_by_seed[v])]
sigma_end = {
    v: [float(torch.linalg.matrix_norm(params[1][r].detach().double(), ord=2)) for r in runs_of(v)]
    for v in finite_variants
}
seeds.publish(ch.results, "final_sigma", [{v: xs[i] for v, xs in sigma_end.items()}
                                          for i in range(len(SEEDS))])  # fmt: skip
wd_run = rc["variants"]["weight_decay"]
ch.results["weight_decay_shrink_50_steps"] = (1 - wd_run["lr"] * wd_run["weight_decay"]) ** 50
ctrl = [float(raw_norm[:, r].median()) for r in runs_of("control")]
ch.results["control_raw_median"] = seeds.mean(ctrl)
ch.results["control_raw_median_by_seed"] = ctrl
ch.results["clip_norm_raw_median_over_control"] = seeds.mean(med) / seeds.mean(ctrl)
ch.results["test_mse_curve"] = {
    "steps": checkpoints,
    **{v: [[None if not math.isfinite(x) else float(x) for x in test_curve[:, r]]
           for r in runs_of(v)] for v in VARIANTS},
}  # fmt: skip

# %% [markdown]
# ## Figures

# %%
NAMES = {
    "noclip": ("no clipping", "不裁剪"),
    "clip_norm": ("clip by norm", "按范数裁剪"),
    "clip_value": ("clip by value", "按数值裁剪"),
    "weight_decay": ("weight decay", "权重衰减"),
    "small_lr": ("lr 100× smaller", "学习率缩小为 1/100"),
    "control": ("σ_max = 1, no clipping", "σ_max = 1，不裁剪"),
}
COLORS = {"noclip": PALETTE[3], "clip_norm": PALETTE[0], "clip_value": PALETTE[1],
          "weight_decay": PALETTE[4], "small_lr": PALETTE[5], "control": PALETTE[2]}  # fmt: skip


def band(ax, xs, runs, values, colour, label):
    """Median line and min-max band over seeds; diverged points are left out."""
    v = values[:, runs].double()
    v = torch.where(torch.isfinite(v), v, torch.nan)
    ok = torch.isfinite(v).all(dim=1)
    if not ok.any():
        return
    xs_ok = [x for x, keep in zip(xs, ok.tolist(), strict=True) if keep]
    lo, hi = v[ok].min(dim=1).values, v[ok].max(dim=1).values
    ax.fill_between(xs_ok, lo.numpy(), hi.numpy(), color=colour, alpha=0.2, linewidth=0)
    ax.plot(xs_ok, v[ok].median(dim=1).values.numpy(), color=colour, label=label, linewidth=1.5)


def draw_training(fig, tr):
    ax = fig.add_subplot()
    top = cfg["figures"]["mse_top"]
    for v in VARIANTS:
        if not any(diverged_by_seed[v]):  # diverged runs are marked by a cross instead
            per_seed = test_curve[:, runs_of(v)].T.double().tolist()
            spread.band(ax, checkpoints, per_seed, COLORS[v], tr(*NAMES[v]), linewidth=1.5)
    for v, y in (("noclip", 0.97), ("weight_decay", 0.93)):
        steps = [s for s in diverged_step[v] if s is not None]
        if steps:
            ax.plot(steps, [y * top] * len(steps), "x", color=COLORS[v], markersize=7,
                    label=tr(f"{NAMES[v][0]}: diverged (× per seed)",
                             f"{NAMES[v][1]}：发散（每个种子一个 ×）"))  # fmt: skip
    ax.axhline(ch.results["adding_baseline_mse"], color=PALETTE[6], linestyle=":", linewidth=1.2,
               label=tr("always answer 0.5", "恒答 0.5"))  # fmt: skip
    ax.set_ylim(0.02, top)
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("test MSE", "测试 MSE"))
    ax.set_title(
        tr(f"tanh RNN, σ_max = 3, adding problem T = {rc['length']}",
           f"tanh RNN，σ_max = 3，加法问题 T = {rc['length']}"),
        fontsize=11,
    )  # fmt: skip
    ax.legend(fontsize=7.5, ncols=2, loc="upper right")


def blocks(values: torch.Tensor, runs: list[int]) -> tuple[list[int], torch.Tensor]:
    """Per-step values (steps, runs) of some runs -> blocks of `block` steps: (x, (blocks, n))
    where each block holds every step and seed of it, so min and max keep the spikes."""
    b = cfg["figures"]["block"]
    n = values.shape[0] // b
    v = values[: n * b, runs].double().reshape(n, b * len(runs))
    return [b * (i + 1) for i in range(n)], v


def band_blocks(ax, values, runs, colour, label):
    """Median line and min-max band over the steps and seeds of each block; non-finite left out."""
    xs, v = blocks(values, runs)
    ok = torch.isfinite(v).all(dim=1)
    if not ok.any():
        return
    xs_ok = [x for x, keep in zip(xs, ok.tolist(), strict=True) if keep]
    v = v[ok]
    ax.fill_between(xs_ok, v.min(dim=1).values.numpy(), v.max(dim=1).values.numpy(),
                    color=colour, alpha=0.2, linewidth=0)  # fmt: skip
    ax.plot(xs_ok, v.median(dim=1).values.numpy(), color=colour, label=label, linewidth=1.5)


def draw_grad_norms(fig, tr):
    early, late = fig.subplots(1, 2, sharey=True, width_ratios=[1, 1.4])
    n = cfg["figures"]["early_steps"]
    xs = list(range(1, n + 1))
    for i, r in enumerate(runs_of("noclip")):
        rec, out = group_norm[:n, 0, r].double(), group_norm[:n, 1, r].double()
        early.plot(xs, torch.where(torch.isfinite(rec), rec, torch.nan).numpy(), color=PALETTE[3],
                   linewidth=0.9, label=tr("no clipping: recurrence", "不裁剪：循环部分")
                   if i == 0 else None)  # fmt: skip
        early.plot(xs, torch.where(torch.isfinite(out), out, torch.nan).numpy(), color=PALETTE[4],
                   linewidth=0.9, linestyle="--",
                   label=tr("no clipping: read-out", "不裁剪：读出层") if i == 0 else None)  # fmt: skip
    band(early, xs, runs_of("clip_norm"), raw_norm[:n], COLORS["clip_norm"],
         tr("clip by norm (all)", "按范数裁剪（全部参数）"))  # fmt: skip
    early.axhline(norm_limit, color=PALETTE[6], linestyle="--", linewidth=1.0)
    early.set_yscale("log")
    early.set_xlabel(tr("SGD step", "SGD 步数"))
    early.set_ylabel(tr("gradient norm before clipping", "裁剪前的梯度范数"))
    early.set_title(tr(f"First {n} steps, each seed", f"前 {n} 步，每个种子一条线"), fontsize=10)
    early.legend(fontsize=7, loc="upper left")
    for v in ("clip_norm", "control"):
        band_blocks(late, raw_norm, runs_of(v), COLORS[v], tr(*NAMES[v]))
    late.axhline(norm_limit, color=PALETTE[6], linestyle="--", linewidth=1.0,
                 label=tr(f"threshold {norm_limit:g}", f"阈值 {norm_limit:g}"))  # fmt: skip
    late.set_xlabel(tr("SGD step", "SGD 步数"))
    late.set_title(tr(f"Whole run, blocks of {cfg['figures']['block']} steps",
                      f"整个训练，每 {cfg['figures']['block']} 步一组"), fontsize=10)  # fmt: skip
    late.legend(fontsize=7.5, loc="upper right")


def draw_cosine(fig, tr):
    ax = fig.add_subplot()
    band_blocks(ax, cosine, clip_runs["norm"], COLORS["clip_norm"], tr(*NAMES["clip_norm"]))
    band_blocks(ax, cosine, clip_runs["value"], COLORS["clip_value"], tr(*NAMES["clip_value"]))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(tr("SGD step", "SGD 步数"))
    ax.set_ylabel(tr("cosine of raw and clipped gradient", "裁剪前后梯度的余弦"))
    ax.set_title(tr("Does the step keep its direction?", "更新方向保持不变吗？"), fontsize=11)
    ax.legend(fontsize=9, loc="lower right")


ch.figure("training", draw_training)
ch.figure("grad_norms", draw_grad_norms)
ch.figure("cosine", draw_cosine)
ch.finish()
