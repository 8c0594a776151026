# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 06 · Recurrent networks, BPTT and the LSTM
#
# Two experiments, each repeated for five seeds:
#
# 1. **The Jacobian through time.** A tanh RNN of 50 units runs freely from a random state; we
#    compute $\lVert \partial h_T / \partial h_0 \rVert_2$, the product of backpropagation through
#    time, for recurrent matrices whose largest singular value is 0.9, 1.5 and 3.0.
# 2. **The adding problem** (Hochreiter & Schmidhuber 1997): a tanh RNN, an LSTM with PyTorch's
#    default init and the same LSTM with its forget-gate bias raised by 1, trained with Adam on
#    sequences of length 50.
#
# The seeds of an experiment run together as one batched model (`gradbook.rnn`), so five seeds cost
# little more than one.

# %%
from __future__ import annotations

import math

import torch

from gradbook import data
from gradbook.chapter import Chapter
from gradbook.plot import color
from gradbook.rnn import (
    StackedLSTM,
    StackedRNN,
    jacobian_norms,
    scale_to_top_singular_value,
    seed_mse,
)
from gradbook.seeds import map_leaves, publish
from gradbook.spread import band

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
ch.results["seeds"] = seeds

# %% [markdown]
# ## 1. The Jacobian product of a tanh RNN
#
# With row vectors, $h_t = \tanh(h_{t-1} W)$ has $\partial h_t / \partial h_{t-1} = W\,
# \mathrm{diag}(1 - h_t^2)$, and $\partial h_T / \partial h_0$ is the product of $T$ such factors.
# Each seed draws one Gaussian matrix and rescales it to each largest singular value, so the three
# scales differ in nothing else. For comparison we also take the same matrices without the tanh:
# the linear recurrence $h_t = h_{t-1} W$, whose Jacobian is simply $W^T$ (the $T$-th power).

# %%
jc = cfg["jacobian"]
n, horizon = jc["hidden"], max(jc["lengths"])
scales = {f"{s:.1f}": s for s in jc["top_singular_values"]}


def base_matrix(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, n, generator=g, dtype=torch.float64) / math.sqrt(n)


def starts_and_drive(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """h_0 ~ U(-1, 1) for each start, and N(0, 1) noise for the driven variant (scaled below)."""
    g = torch.Generator().manual_seed(10_000 + seed)
    h0 = torch.rand(jc["starts"], n, generator=g, dtype=torch.float64) * 2 - 1
    noise = torch.randn(jc["starts"], horizon, n, generator=g, dtype=torch.float64)
    return h0, noise


def trajectory(w: torch.Tensor, h0: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
    """h_1..h_T of h_t = tanh(h_{t-1} W + u_t), (starts, T, n)."""
    hs, h = [], h0
    for u in drive.unbind(dim=1):
        h = torch.tanh(h @ w + u)
        hs.append(h)
    return torch.stack(hs, dim=1)


tanh_curves = {k: [] for k in scales}  # per scale: one (T,) curve per seed
driven_curves = {k: [] for k in scales}
linear_curves = {k: [] for k in scales}
per_seed = []  # one dict per seed, in the shape of results.json
for seed in seeds:
    base = base_matrix(seed)
    h0, noise = starts_and_drive(seed)
    rho_over_sigma = float(
        torch.linalg.eigvals(base).abs().max() / torch.linalg.matrix_norm(base, 2)
    )
    row = {"free": {}, "driven": {}, "linear": {}, "spectral_radius": {}, "tanh_derivative": {}}
    for key, s in scales.items():
        w = scale_to_top_singular_value(base, s)
        ws = w.expand(jc["starts"], n, n)
        free = jacobian_norms(ws, h0, torch.zeros_like(noise)).mean(dim=0)
        driven = jacobian_norms(ws, h0, jc["drive_std"] * noise).mean(dim=0)
        powers, p = [], torch.eye(n, dtype=torch.float64)
        for _ in range(horizon):
            p = p @ w
            powers.append(torch.linalg.matrix_norm(p, 2))
        linear = torch.stack(powers)
        tanh_curves[key].append(free)
        driven_curves[key].append(driven)
        linear_curves[key].append(linear)
        h = trajectory(w, h0, torch.zeros_like(noise))
        row["free"][key] = {str(t): free[t - 1] for t in jc["lengths"]}
        row["driven"][key] = {str(t): driven[t - 1] for t in jc["lengths"]}
        row["linear"][key] = {str(t): linear[t - 1] for t in jc["lengths"]}
        row["spectral_radius"][key] = rho_over_sigma * s
        row["tanh_derivative"][key] = (1 - h * h).mean()  # mean tanh'(a_t) along the free run
    row["rho_over_sigma"] = rho_over_sigma
    # Growth per step at sigma_max = 3: the geometric mean of the factor between two lengths.
    top = f"{max(scales.values()):.1f}"
    row["growth"] = {
        kind: {
            f"{a}_to_{b}": float((curves[top][-1][b - 1] / curves[top][-1][a - 1]) ** (1 / (b - a)))
            for a, b in zip(jc["lengths"], jc["lengths"][1:], strict=False)
        }
        for kind, curves in (("tanh", tanh_curves), ("linear", linear_curves))
    }
    per_seed.append(row)


def column(name: str) -> list:
    return [row[name] for row in per_seed]


def publish_with_range(key: str, values: list) -> None:
    """publish(), plus `<key>_min` and `<key>_max` over seeds: the spread the text quotes."""
    publish(ch.results, key, values)
    for name, fn in (("min", min), ("max", max)):
        ch.results[f"{key}_{name}"] = map_leaves(ch.results[f"{key}_by_seed"], fn)


publish_with_range("rnn_jacobian_norm", column("free"))
publish_with_range("rnn_jacobian_norm_driven", column("driven"))
publish(ch.results, "linear_jacobian_norm", column("linear"))
publish(ch.results, "spectral_radius", column("spectral_radius"))
publish(ch.results, "spectral_radius_over_top_singular_value", column("rho_over_sigma"))
publish(ch.results, "mean_tanh_derivative", column("tanh_derivative"))
publish_with_range("jacobian_growth_per_step_at_3", column("growth"))
ch.results["rnn_jacobian_norm"]

# %% [markdown]
# ## 2. The adding problem
#
# Each sequence has 50 steps of two inputs: a value from U[-1, 1] and a marker that is 1 at two
# steps (one in each half) and 0 elsewhere. The target is $0.5 + (x_1 + x_2)/4$, where $x_1, x_2$ are
# the two marked values. Predicting the constant 0.5 scores an MSE of 1/24; doing better requires
# carrying the first marked value across at least 25 steps.
#
# Three nets per seed, all with 16 units and a linear readout of the last hidden state: a tanh RNN
# and two LSTMs that start from the *same* PyTorch-default weights, except that the second one's
# forget-gate bias is raised by 1. Every net of seed $s$ sees the same fresh batch at every step.

# %%
ac = cfg["adding"]
T, H = ac["length"], ac["hidden"]
n_seeds = len(seeds)
test_x, test_y = data.adding_problem(ac["test_size"], T, seed=ac["test_seed"])
ch.results["adding_baseline_mse"] = float(((test_y - test_y.mean()) ** 2).mean())
ch.results["adding_baseline_mse_theory"] = 1 / 24

rnn = StackedRNN.from_seeds(2, H, 1, seeds)
lstm = StackedLSTM.from_seeds(2, H, 1, seeds + seeds)  # two copies of every seed ...
with torch.no_grad():  # ... the second copy with its forget-gate bias raised
    lstm.b_ih[n_seeds:, :, H : 2 * H] += ac["forget_bias"]
NETS = {  # name -> (model, which members of its stack)
    "rnn": (rnn, slice(0, n_seeds)),
    "lstm_default_init": (lstm, slice(0, n_seeds)),
    "lstm": (lstm, slice(n_seeds, 2 * n_seeds)),
}
# The RNN's recurrent matrix at PyTorch's default init, U(-1/sqrt(H), 1/sqrt(H)), in experiment 1's terms:
publish(
    ch.results, "rnn_recurrent_top_singular_value", torch.linalg.matrix_norm(rnn.w_hh.detach(), 2)
)
publish(ch.results, "rnn_recurrent_spectral_radius",
        torch.linalg.eigvals(rnn.w_hh.detach()).abs().amax(dim=-1))  # fmt: skip


def forget_gates(model: StackedLSTM, x: torch.Tensor) -> torch.Tensor:
    """f_t = sigmoid(x_t W_ih + h_{t-1} W_hh + b) for every member, step and unit: (S, B, T, H)."""
    with torch.no_grad():
        h = model.states(x)
        h_prev = torch.cat([torch.zeros_like(h[:, :, :1]), h[:, :, :-1]], dim=2)
        f = slice(H, 2 * H)
        a = x @ model.w_ih[:, None, :, f] + h_prev @ model.w_hh[:, None, :, f]
        return torch.sigmoid(a + (model.b_ih + model.b_hh)[:, None, :, f])


def input_gradient(model, x: torch.Tensor) -> torch.Tensor:
    """||d y_hat / d x_t|| per member and step, averaged over the batch, relative to t = T: (S, T)."""
    x = x.expand(model.n_seeds, *x.shape).clone().requires_grad_()
    model(x).sum().backward()
    g = x.grad.norm(dim=-1).mean(dim=1)
    return g / g[:, -1:]


def by_net(values: torch.Tensor) -> dict:
    """Per-member values of the two stacks -> {net: values of its seeds}."""
    return {name: values[name][part] for name, (_, part) in NETS.items()}


# %% [markdown]
# **At initialisation.** How much does the prediction depend on the input at step $t$? If the
# gradient $\partial \hat y / \partial x_t$ is tiny for early $t$, the first marked value cannot be
# learned, whatever the optimiser does with it. In the LSTM the cell state carries the signal from
# step $t$ to the end multiplied by the forget gates in between, so we also record their mean.

# %%
probe = test_x[: ac["sensitivity_batch"]]
sensitivity = input_gradient(rnn, probe), input_gradient(lstm, probe)
sens = by_net({"rnn": sensitivity[0], "lstm_default_init": sensitivity[1], "lstm": sensitivity[1]})
for model in (rnn, lstm):
    model.zero_grad()
publish_with_range(
    "input_grad_at_init", [{k: v[i] for k, v in sens.items()} for i in range(n_seeds)]
)
gate = forget_gates(lstm, probe.expand(2 * n_seeds, *probe.shape)).mean(dim=(1, 2, 3))
gates0 = {"lstm_default_init": gate[:n_seeds], "lstm": gate[n_seeds:]}
publish(
    ch.results,
    "forget_gate_at_init",
    [{k: v[i] for k, v in gates0.items()} for i in range(n_seeds)],
)

# The same profile at T = 100 for LSTMs with larger forget biases (measured at init only).
long_x, _ = data.adding_problem(
    ac["sensitivity_batch"], ac["long_length"], seed=ac["test_seed"] + 1
)
biases = ac["long_forget_biases"]
long_lstm = StackedLSTM.from_seeds(2, H, 1, seeds * len(biases))
with torch.no_grad():
    for j, b in enumerate(biases):
        long_lstm.b_ih[j * n_seeds : (j + 1) * n_seeds, :, H : 2 * H] += b
long_sens = input_gradient(long_lstm, long_x).view(len(biases), n_seeds, -1)
long_keys = [f"bias_{b:g}" for b in biases]
publish_with_range("input_grad_at_init_t100",
        [{k: long_sens[j, i] for j, k in enumerate(long_keys)} for i in range(n_seeds)])  # fmt: skip
ch.results["forget_gate_at_init"]

# %% [markdown]
# **Training.** Adam with learning rate $10^{-3}$ on every net; the test MSE on one fixed set of
# 1000 sequences every 100 steps. Adam's update is elementwise, so one Adam on the stacked weights is
# one independent Adam per seed.


# %%
def train_batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fresh batch per seed: inputs (seeds, batch, T, 2), targets (seeds, batch)."""
    batches = [data.adding_problem(ac["batch_size"], T, seed=ac["data_seed"] + 100_000 * s + step)
               for s in seeds]  # fmt: skip
    xs, ys = zip(*batches, strict=True)
    return torch.stack(xs), torch.stack(ys)


def test_mse() -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return by_net({
            "rnn": seed_mse(rnn(test_x).squeeze(-1), test_y),
            "lstm_default_init": (m := seed_mse(lstm(test_x).squeeze(-1), test_y)),
            "lstm": m,
        })  # fmt: skip


optimisers = [(rnn, torch.optim.Adam(rnn.parameters(), lr=ac["lr"]), 1),
              (lstm, torch.optim.Adam(lstm.parameters(), lr=ac["lr"]), 2)]  # fmt: skip
checkpoints, curves = [0], [test_mse()]
for step in range(1, ac["steps"] + 1):
    x, y = train_batch(step)
    for model, opt, copies in optimisers:
        opt.zero_grad()
        loss = seed_mse(model(x.repeat(copies, 1, 1, 1)).squeeze(-1), y.repeat(copies, 1))
        loss.sum().backward()  # each seed's weights get exactly its own gradient
        opt.step()
    if step % ac["eval_every"] == 0 or step == ac["steps"]:
        checkpoints.append(step)
        curves.append(test_mse())

curve = {k: torch.stack([c[k] for c in curves], dim=1) for k in NETS}  # (seeds, checkpoints)
final = {k: v[:, -ac["final_checkpoints"] :].mean(dim=1) for k, v in curve.items()}
ch.results["adding_curve_steps"] = checkpoints
publish(ch.results, "adding_curve", [{k: v[i] for k, v in curve.items()} for i in range(n_seeds)])
publish_with_range("adding_test_mse", [{k: v[i] for k, v in final.items()} for i in range(n_seeds)])


def first_below(values: torch.Tensor) -> int | None:
    hits = [s for s, v in zip(checkpoints, values.tolist(), strict=True) if v < ac["solved_below"]]
    return hits[0] if hits else None


# Steps to solve: the first checkpoint below `solved_below`, per seed (null: not within the budget).
ch.results["adding_solve_step_by_seed"] = {
    k: [first_below(v[i]) for i in range(n_seeds)] for k, v in curve.items()
}
ch.results["adding_solved_seeds"] = {
    k: sum(s is not None for s in v) for k, v in ch.results["adding_solve_step_by_seed"].items()
}
ch.results["adding_solve_step_range"] = {  # [earliest, latest] over the seeds that solved it
    k: [min(solved), max(solved)] if (solved := [s for s in v if s is not None]) else None
    for k, v in ch.results["adding_solve_step_by_seed"].items()
}
# After training: the mean forget gate over units, and that of the unit whose gate is most open (the
# mean over the batch and the steps of f_t, per unit; then the largest of the H units).
f_unit = forget_gates(lstm, probe.expand(2 * n_seeds, *probe.shape)).mean(dim=(1, 2))  # (S, H)
after = {"mean": f_unit.mean(dim=1), "most_open_unit": f_unit.amax(dim=1)}
publish(ch.results, "forget_gate_after_training",
        [{k: {g: v[part][i] for g, part in (("lstm_default_init", slice(0, n_seeds)),
                                              ("lstm", slice(n_seeds, None)))}
          for k, v in after.items()} for i in range(n_seeds)])  # fmt: skip
ch.results["adding_test_mse"], ch.results["adding_solve_step_by_seed"]

# %% [markdown]
# ## Figures
#
# Lines are the mean over seeds, bands the range from the lowest to the highest seed.

# %%
LABELS = {
    "rnn": ("tanh RNN", "tanh RNN"),
    "lstm_default_init": ("LSTM, PyTorch default init", "LSTM，PyTorch 默认初始化"),
    "lstm": ("LSTM, forget bias +1", "LSTM，遗忘门偏置 +1"),
}
NET_COLORS = {"rnn": color("rnn"), "lstm_default_init": color("", 6), "lstm": color("lstm")}
BIAS_COLORS = [color("", 6), color("lstm"), color("", 2)]  # forget bias +0 / +1 / +3


def draw_jacobian(fig, tr):
    ax = fig.add_subplot()
    ts = range(1, horizon + 1)
    for i, key in enumerate(scales):
        c = color("", i)
        band(ax, ts, torch.stack(tanh_curves[key]).tolist(), c, rf"$\sigma_{{max}}$ = {key}", 2.0)
        ax.plot(ts, torch.stack(linear_curves[key]).mean(dim=0), color=c, linestyle="--",
                linewidth=1.2)  # fmt: skip
    ax.plot([], [], color="#666666", linestyle="--", linewidth=1.2,
            label=tr("same W, no tanh", "同一 W，去掉 tanh"))  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel(tr("time steps T", "时间步数 T"))
    ax.set_ylabel(r"$\|\partial h_T / \partial h_0\|_2$")
    ax.set_title(tr("Jacobian through time, tanh RNN of 50 units",
                    "雅可比矩阵范数随时间的变化（50 个神经元的 tanh RNN）"))  # fmt: skip
    ax.legend(fontsize=9, loc="lower left", ncols=2)


def draw_spectrum(fig, tr):
    ax = fig.add_subplot()
    s = jc["spectrum_scale"]
    w = scale_to_top_singular_value(base_matrix(seeds[0]), s)
    eig = torch.linalg.eigvals(w)
    rho = float(eig.abs().max())
    angle = torch.linspace(0, 2 * math.pi, 200)
    for radius, style, label in [
        (s, "-", tr(f"largest singular value {s:g}", f"最大奇异值 {s:g}")),
        (rho, "--", tr(f"spectral radius {rho:.2f}", f"谱半径 {rho:.2f}")),
        (1.0, ":", tr("unit circle", "单位圆")),
    ]:
        ax.plot(radius * angle.cos(), radius * angle.sin(), color="#666666", linestyle=style,
                linewidth=1.2, label=label)  # fmt: skip
    ax.scatter(eig.real, eig.imag, s=12, color=color("", 0), label=tr("eigenvalues", "特征值"),
               zorder=3)  # fmt: skip
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(tr("real part", "实部"))
    ax.set_ylabel(tr("imaginary part", "虚部"))
    ax.set_title(tr("Eigenvalues of one random 50 × 50 W", "一个 50 × 50 随机矩阵 W 的特征值"))
    fig.legend(fontsize=9, loc="outside right center")


def draw_adding(fig, tr):
    ax = fig.add_subplot()
    for name in NETS:
        band(ax, checkpoints, curve[name].tolist(), NET_COLORS[name], tr(*LABELS[name]), 2.0)
    ax.axhline(ch.results["adding_baseline_mse"], color="#666666", linestyle="--", linewidth=1.2,
               label=tr("best constant guess", "最佳常数预测"))  # fmt: skip
    ax.axhline(ac["solved_below"], color="#666666", linestyle=":", linewidth=1.2)
    ax.set_yscale("log")
    ax.set_xlabel(tr("training step (Adam)", "训练步数（Adam）"))
    ax.set_ylabel(tr("test MSE", "测试集 MSE"))
    ax.set_title(tr(f"Adding problem, T = {T}", f"加法问题，T = {T}"))
    ax.legend(fontsize=9, loc="lower left")


def draw_input_grad(fig, tr):
    left, right = fig.subplots(1, 2, sharey=True)
    for name in NETS:
        band(left, range(1, T + 1), sens[name].tolist(), NET_COLORS[name], tr(*LABELS[name]), 2.0)
    left.set_title(f"T = {T}")
    left.set_ylabel(r"$\|\partial \hat y / \partial x_t\|$ / $\|\partial \hat y / \partial x_T\|$")
    for j, b in enumerate(biases):
        band(right, range(1, ac["long_length"] + 1), long_sens[j].tolist(), BIAS_COLORS[j],
             tr(f"LSTM, forget bias +{b:g}", f"LSTM，遗忘门偏置 +{b:g}"), 2.0)  # fmt: skip
    right.set_title(f"T = {ac['long_length']}")
    for ax in (left, right):
        ax.set_yscale("log")
        ax.set_xlabel(tr("input step t", "输入时间步 t"))
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(tr("At initialisation: how much the prediction depends on the input of step t",
                    "初始化时，预测值对第 t 步输入的依赖程度"), fontsize=12)  # fmt: skip


ch.figure("jacobian_norm", draw_jacobian)
ch.figure("spectrum", draw_spectrum)
ch.figure("adding_curves", draw_adding)
ch.figure("input_grad", draw_input_grad, figsize=(7.2, 3.8))
ch.finish()
