# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 09 · When the data moves
#
# This module runs the experiments of chapter 09 and writes their figures and numbers. Each kind
# of shift is made by hand, so that what changed between training and test is known exactly.
#
# 1. **Covariate shift** on a synthetic 2-D problem: the inputs' distribution moves, the rule that
#    labels them does not. A linear classifier trained on the source data, then trained again with
#    importance weights from a domain classifier, tested on the target.
# 2. **Label shift** on the digits: the class proportions change, the images of each class do
#    not. The target prior is estimated by the confusion-matrix method of Lipton et al. (2018) and
#    used to correct the classifier's outputs.
# 3. **Concept shift** on the digits: the same images, the same class proportions, but two pairs
#    of digits swap names. Neither correction can see it.
#
# Every number is over five seeds; per seed, the drawn data sets, the target prior, and the nets'
# initial weights and minibatch order change.

# %%
import numpy as np
import torch
from sklearn.model_selection import train_test_split

from gradbook import data, shift
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import color
from gradbook.seeds import StackedMLP, fit_seeds, publish, publish_tree
from gradbook.spread import bars

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
ch.results["seeds"] = seeds
F64 = torch.float64

# %% [markdown]
# ## Covariate shift
#
# Inputs $x \in \mathbb{R}^2$; in both domains the label follows
# $p(y = 1 \mid x) = \sigma\big(k\,(x_2 - a x_1^2 - c)\big)$, a curved boundary. Source inputs
# come from one Gaussian, target inputs from another, further right. The classifier is a logistic
# regression on $(x_1, x_2)$: a straight line, the best one for the region where the source data
# lie is not the best one where the target data lie.

# %%
cov = cfg["covariate"]
generators = [torch.Generator().manual_seed(s) for s in seeds]


def gaussian(mean, std, n: int) -> torch.Tensor:
    """(seeds, n, 2): n draws per seed from N(mean, diag(std^2))."""
    m, s = torch.tensor(mean, dtype=F64), torch.tensor(std, dtype=F64)
    return torch.stack([m + s * torch.randn(n, 2, generator=g, dtype=F64) for g in generators])


def boundary(x1: torch.Tensor) -> torch.Tensor:
    return cov["curve"] * x1**2 + cov["offset"]


def label(x: torch.Tensor) -> torch.Tensor:
    """Labels drawn from p(y = 1 | x), the same rule in both domains, (seeds, n)."""
    p = torch.sigmoid(cov["sharpness"] * (x[..., 1] - boundary(x[..., 0])))
    draws = torch.stack([torch.rand(p.shape[1], generator=g, dtype=F64) for g in generators])
    return (draws < p).to(F64)


def log_density(x: torch.Tensor, mean, std) -> torch.Tensor:
    m, s = torch.tensor(mean, dtype=F64), torch.tensor(std, dtype=F64)
    return (-0.5 * ((x - m) / s) ** 2 - torch.log(s)).sum(dim=-1)


x_source = gaussian(cfg["source_mean"], cfg["source_std"], cov["n_source"])
y_source = label(x_source)
x_target = gaussian(cfg["target_mean"], cfg["target_std"], cov["n_target"])  # unlabelled
y_target = label(x_target)  # used only by the oracle
x_test = gaussian(cfg["target_mean"], cfg["target_std"], cov["n_test"])
y_test = label(x_test)

weights = shift.domain_weights(x_source, x_target, steps=cfg["domain_steps"],
                               lr=cfg["domain_lr"], features=shift.quadratic_features)  # fmt: skip
true_weights = shift.normalized(torch.exp(
    log_density(x_source, cfg["target_mean"], cfg["target_std"])
    - log_density(x_source, cfg["source_mean"], cfg["source_std"])
))  # fmt: skip


def classifier(x, y, w=None) -> shift.Logistic:
    return shift.fit_logistic(x, y, w, steps=cfg["classifier_steps"], lr=cfg["classifier_lr"])


covariate_models = {
    "source_only": classifier(x_source, y_source),
    "reweighted": classifier(x_source, y_source, weights),
    "true_weights": classifier(x_source, y_source, true_weights),
    "target_trained": classifier(x_target, y_target),
}
publish_tree(ch.results, "covariate_acc",
             {k: m.accuracy(x_test, y_test) for k, m in covariate_models.items()})  # fmt: skip
source_test = gaussian(cfg["source_mean"], cfg["source_std"], cov["n_test"])
publish_tree(ch.results, "covariate_acc_on_source",
             {k: covariate_models[k].accuracy(source_test, label(source_test))
              for k in ("source_only", "reweighted")})  # fmt: skip
log_w, log_true = weights.log(), true_weights.log()
publish(
    ch.results,
    "weight_log_corr",
    [
        float(torch.corrcoef(torch.stack([a, b]))[0, 1])
        for a, b in zip(log_w, log_true, strict=True)
    ],
)
publish_tree(ch.results, "effective_sample_size", {
    "estimated": shift.effective_sample_size(weights),
    "true": shift.effective_sample_size(true_weights),
})  # fmt: skip
ch.results["covariate_acc"]

# %% [markdown]
# ## Label shift
#
# A small ReLU net (one hidden layer, He init, plain SGD) learns the digits from 70% of the
# training images; the other 30% (labelled, source distribution) give the confusion matrix
# $C_{ij} = P_\text{source}(\hat y = i, y = j)$. The target set is drawn from the test images:
# first a class from a prior $q$ drawn per seed from a Dirichlet distribution, then an image of
# that class uniformly, so $p(x \mid y)$ is exactly the source's and only $p(y)$ moved. From the
# target's predicted-class shares $\mu$, solving $C w = \mu$ gives $w_j = q_j / p_j$ and the
# estimate $\hat q = w \odot p$; the corrected classifier predicts
# $\arg\max_y w_y\, p_\text{source}(y \mid x)$.

# %%
digits = data.digits(seed=cfg["seed"])
k = digits.n_classes
idx_fit, idx_hold = train_test_split(np.arange(len(digits.y_train)), test_size=cfg["label_holdout"],
                                     stratify=digits.y_train.numpy(), random_state=cfg["seed"])  # fmt: skip
idx_fit, idx_hold = torch.as_tensor(idx_fit), torch.as_tensor(idx_hold)
x_fit, y_fit = digits.x_train[idx_fit], digits.y_train[idx_fit]
x_hold, y_hold = digits.x_train[idx_hold], digits.y_train[idx_hold]


def train_nets(labels: torch.Tensor) -> StackedMLP:
    stack = StackedMLP.from_seeds(
        lambda: MLP([digits.n_features, cfg["hidden"], k], activation="relu", init="kaiming"), seeds
    )
    fit_seeds(stack, x_fit, labels, seeds=seeds, steps=cfg["steps"], lr=cfg["lr"],
              batch_size=cfg["batch_size"], log_every=cfg["steps"])  # fmt: skip
    return stack


@torch.no_grad()
def probabilities(stack: StackedMLP, x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(stack(x).double(), dim=-1)  # (seeds, n, k)


nets = train_nets(y_fit)
source_prior = torch.bincount(y_fit, minlength=k).double() / len(y_fit)
probs_hold = probabilities(nets, x_hold)
probs_test = probabilities(nets, digits.x_test)

priors, estimates, picks = [], [], []
l1 = {"estimated": [], "assume_unchanged": []}
label_acc = {"uncorrected": [], "corrected": [], "true_weights": []}
for s, seed in enumerate(seeds):
    q = torch.as_tensor(np.random.default_rng(seed).dirichlet([cfg["target_alpha"]] * k))
    pick = shift.sample_with_prior(digits.y_test, q, cfg["n_label_target"],
                                   torch.Generator().manual_seed(seed))  # fmt: skip
    y_t, p_t = digits.y_test[pick], probs_test[s][pick]
    confusion = shift.confusion_joint(probs_hold[s].argmax(1), y_hold, k)
    w = shift.bbse_weights(confusion, shift.prediction_shares(p_t.argmax(1), k))
    q_hat = shift.target_prior(w, source_prior)
    priors.append(q)
    estimates.append(q_hat)
    l1["estimated"].append(float((q_hat - q).abs().sum()))
    l1["assume_unchanged"].append(float((source_prior - q).abs().sum()))

    def accuracy(p: torch.Tensor) -> float:
        return float((p.argmax(1) == y_t).double().mean())  # noqa: B023 (used at once)

    label_acc["uncorrected"].append(accuracy(p_t))
    label_acc["corrected"].append(accuracy(shift.correct_posteriors(p_t, w)))
    label_acc["true_weights"].append(accuracy(shift.correct_posteriors(p_t, q / source_prior)))

publish_tree(ch.results, "label_shift_prior_l1", l1)
publish_tree(ch.results, "label_shift_acc", label_acc)
gain = [c - u for c, u in zip(label_acc["corrected"], label_acc["uncorrected"], strict=True)]
publish(ch.results, "label_shift_acc_gain", gain)
largest = [float(q.max()) for q in priors]
ch.results["label_shift_largest_class_share_by_seed"] = largest
ch.results["label_shift_largest_class_share_range"] = [min(largest), max(largest)]
ratio = [e / u for e, u in zip(l1["estimated"], l1["assume_unchanged"], strict=True)]
publish(ch.results, "label_shift_prior_l1_ratio", ratio)
ch.results["label_fit_n"] = len(y_fit)
ch.results["label_holdout_n"] = len(y_hold)
ch.results["label_shift_true_prior"] = [q.tolist() for q in priors]
ch.results["label_shift_estimated_prior"] = [q.tolist() for q in estimates]
ch.results["label_shift_source_prior"] = source_prior.tolist()
hold_acc = (probs_hold.argmax(2) == y_hold).double().mean(1)
publish(ch.results, "source_holdout_acc", hold_acc)
ch.results["label_shift_prior_l1"], ch.results["label_shift_acc"]

# %% [markdown]
# ## Concept shift
#
# Same images, same class proportions, but in the target world two pairs of digits swap names
# (`concept_swaps`): $p(x)$ and $p(y)$ are exactly those of the source, $p(y \mid x)$ is not. The
# density ratio $p_t(x)/p_s(x)$ is 1 everywhere, so importance weighting changes nothing by
# construction; we apply the label-shift correction to see what it finds, and, as the fix that
# does work, retrain the same nets on the new concept's labels.

# %%
rename = torch.arange(k)
for a, b in cfg["concept_swaps"]:
    rename[a], rename[b] = b, a
y_test_new = rename[digits.y_test]
pred_test = probs_test.argmax(2)
concept = {
    "before": (pred_test == digits.y_test).double().mean(1),
    "after": (pred_test == y_test_new).double().mean(1),
}
corrected, concept_l1 = [], []
for s in range(len(seeds)):
    confusion = shift.confusion_joint(probs_hold[s].argmax(1), y_hold, k)
    w = shift.bbse_weights(confusion, shift.prediction_shares(pred_test[s], k))
    fixed = shift.correct_posteriors(probs_test[s], w).argmax(1)
    corrected.append(float((fixed == y_test_new).double().mean()))
    concept_l1.append(float((shift.target_prior(w, source_prior) - source_prior).abs().sum()))
concept["after_label_correction"] = torch.tensor(corrected)
retrained = train_nets(rename[y_fit])
concept["retrained"] = (
    (probabilities(retrained, digits.x_test).argmax(2) == y_test_new).double().mean(1)
)
publish_tree(ch.results, "concept_shift_acc", concept)
publish(ch.results, "concept_shift_estimated_prior_change_l1", concept_l1)
ch.results["concept_swapped_share"] = float((y_test_new != digits.y_test).double().mean())
ch.results["concept_shift_acc"]

# %% [markdown]
# ## Figures
#
# Each figure is drawn once per language from the same numbers; `tr(english, chinese)` picks the
# label. Bars are the mean over seeds, error bars the seeds' range; the scatter plot shows seed 0.


# %%
def seed_lists(tree: dict) -> dict:
    return {k: list(v) for k, v in tree.items()}


def draw_covariate(fig, tr):
    # The two clouds are drawn as one picture inside the SVG (rasterized, at 200 dpi), not as
    # thousands of vector dots: a 0.34 MB figure becomes about 0.1 MB; the CSV keeps every point.
    fig.set_dpi(200)
    left, right = fig.subplots(1, 2, width_ratios=[1.25, 1])
    xs, ys, xt = x_source[0], y_source[0], x_target[0]
    left.scatter(xs[:, 0], xs[:, 1], s=3, c=[color("", 0) if v else color("", 5) for v in ys],
                 alpha=0.5, linewidths=0, rasterized=True,
                 label=tr("source (labelled)", "源域（有标签）"))  # fmt: skip
    left.scatter(xt[:, 0], xt[:, 1], s=3, color="#999999", alpha=0.4, linewidths=0, rasterized=True,
                 label=tr("target (unlabelled)", "目标域（无标签）"))  # fmt: skip
    grid = torch.linspace(-3.0, 3.0, 121, dtype=F64)
    left.plot(
        grid, boundary(grid), color="#333333", linewidth=1.2, label=tr("true boundary", "真实边界")
    )
    styles = {"source_only": ("--", tr("source only", "仅用源域")),
              "reweighted": ("-", tr("reweighted", "重要性加权"))}  # fmt: skip
    for key, (style, name) in styles.items():
        m = covariate_models[key]
        theta = (m.theta[0, :, 0] / m.std[0, 0]).tolist()
        b = float(m.bias[0, 0, 0] - (m.mean[0, 0] / m.std[0, 0] * m.theta[0, :, 0]).sum())
        left.plot(grid, -(b + theta[0] * grid) / theta[1], style, color=color("", 3), linewidth=1.4,
                  label=name)  # fmt: skip
    left.set_xlim(-3, 3)
    left.set_ylim(-3, 4)
    left.set_xlabel("$x_1$")
    left.set_ylabel("$x_2$")
    left.set_title(tr("Seed 0", "种子 0"), fontsize=10)
    left.legend(fontsize=7, loc="upper left", markerscale=3)
    per_seed = seed_lists(ch.results["covariate_acc_by_seed"])
    labels = {"source_only": tr("source\nonly", "仅源域"), "reweighted": tr("re-\nweighted", "加权"),
              "true_weights": tr("true\nweights", "真实\n权重"),
              "target_trained": tr("target\nlabels", "目标域\n标签")}  # fmt: skip
    for i, (key, name) in enumerate(labels.items()):
        bars(right, [name], [[v] for v in per_seed[key]], color("", [3, 3, 2, 7][i]))
    right.set_ylim(0.5, 1)
    right.set_ylabel(tr("target test accuracy", "目标域测试准确率"))
    right.set_title(tr(f"{len(seeds)} seeds", f"{len(seeds)} 个种子"), fontsize=10)
    right.tick_params(axis="x", labelsize=8)


def draw_label_prior(fig, tr):
    left, right = fig.subplots(1, 2, width_ratios=[1.6, 1])
    classes = np.arange(k)
    width = 0.27
    left.bar(
        classes - width, priors[0].numpy(), width, color="#333333", label=tr("true q", "真实 q")
    )
    left.bar(classes, estimates[0].numpy(), width, color=color("", 1),
             label=tr("estimated", "估计值"))  # fmt: skip
    left.bar(classes + width, source_prior.numpy(), width, color="#BBBBBB",
             label=tr("source p", "源域 p"))  # fmt: skip
    left.set_xticks(classes)
    left.set_xlabel(tr("digit", "数字"))
    left.set_ylabel(tr("class share", "类别占比"))
    left.set_title(tr("Target prior, seed 0", "目标域先验（种子 0）"), fontsize=10)
    left.legend(fontsize=8)
    per_seed = seed_lists(ch.results["label_shift_prior_l1_by_seed"])
    bars(right, [tr("estimated", "估计")], [[v] for v in per_seed["estimated"]], color("", 1))
    bars(right, [tr("assume\nunchanged", "假设\n不变")], [[v] for v in per_seed["assume_unchanged"]],
         "#BBBBBB")  # fmt: skip
    right.set_ylabel(tr("L1 error of the prior", "先验的 L1 误差"))
    right.set_title(tr(f"{len(seeds)} seeds", f"{len(seeds)} 个种子"), fontsize=10)


def draw_accuracy(fig, tr):
    left, right = fig.subplots(1, 2)
    label_seeds = seed_lists(ch.results["label_shift_acc_by_seed"])
    names = {"uncorrected": tr("un-\ncorrected", "未校正"), "corrected": tr("corrected", "校正"),
             "true_weights": tr("true\nweights", "真实\n权重")}  # fmt: skip
    for i, (key, name) in enumerate(names.items()):
        bars(left, [name], [[v] for v in label_seeds[key]], color("", [5, 1, 2][i]))
    low = min(min(v) for v in label_seeds.values())
    left.set_ylim(max(0.0, low - 0.05), 1)
    left.set_ylabel(tr("target accuracy", "目标域准确率"))
    left.set_title(tr("Label shift", "标签偏移"), fontsize=10)
    concept_seeds = seed_lists(ch.results["concept_shift_acc_by_seed"])
    names = {"before": tr("before", "偏移前"), "after": tr("after", "偏移后"),
             "after_label_correction": tr("label\ncorr.", "标签\n校正"),
             "retrained": tr("new\nlabels", "新标签\n重训")}  # fmt: skip
    for i, (key, name) in enumerate(names.items()):
        bars(right, [name], [[v] for v in concept_seeds[key]], color("", [0, 3, 1, 2][i]))
    right.set_ylim(0, 1)
    right.set_title(tr("Concept shift", "概念偏移"), fontsize=10)
    for ax in (left, right):
        ax.tick_params(axis="x", labelsize=8)


ch.figure("covariate", draw_covariate, figsize=(6.4, 3.6))
ch.figure("label_prior", draw_label_prior)
ch.figure("accuracy", draw_accuracy)
ch.finish()
