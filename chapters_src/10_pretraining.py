# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 10 · Layer-wise pretraining, then and now
#
# This module runs the experiments of chapter 10 and writes their figures and numbers.
#
# A 6-hidden-layer sigmoid network on the digits does not learn from a random start with plain
# SGD: the forward signal and the gradient both shrink by a factor at every layer (chapters 01 and
# 02). Greedy layer-wise pretraining (Hinton et al. 2006; Bengio et al. 2007) gives every layer a
# job before the labels are used: reconstruct its own input. We run it two ways, the textbook
# recipe taken literally (reconstruct the raw input, briefly) and the recipe that works here
# (reconstruct the input standardised per unit, for longer), fine-tune each with the same SGD
# budget as a randomly initialised sigmoid net and a ReLU net with He init, five seeds each,
# trained together as one batched model.

# %%
import math

import torch

from gradbook import data
from gradbook.chapter import Chapter
from gradbook.nets import MLP
from gradbook.plot import color
from gradbook.pretrain import hidden_feature_std, pretrain
from gradbook.seeds import StackedMLP, fit_seeds, publish, publish_tree, seed_accuracy
from gradbook.spread import band, bars

ch = Chapter.start(__file__)
cfg = ch.config
seeds = cfg["seeds"]
ch.results["seeds"] = seeds
digits = data.digits(seed=cfg["seed"])


def nets(activation: str, init: str) -> StackedMLP:
    """One net per seed, each the net a single run with that seed would start from."""
    sizes = (digits.n_features, cfg["width"], cfg["depth"], digits.n_classes)
    return StackedMLP.from_seeds(lambda: MLP.deep(*sizes, activation=activation, init=init), seeds)


# %% [markdown]
# ## Pretraining, two recipes
#
# For hidden layer $l$ with input $h$ (the digits for $l = 1$, else the output of the layers
# below, already pretrained and frozen), the encoder is the layer itself, $c = \sigma(hW_l + b_l)$,
# and a linear decoder $r = cV + a$ maps the code back. Both are trained by Adam on the mean
# squared error $\lVert r - t\rVert^2$, where the target $t$ is $h$ itself (naive) or $h$ with
# every unit standardised over the training images (working). We also run the two other corners
# of that 2 x 2 grid, to see which of the two changes matters. For each autoencoder we record the
# share of its target's variance it reconstructs, $1 - \text{MSE}/\text{Var}(t)$: near 0 means the
# decoder's bias, the target's mean, does all the work.

# %%
recipes = {
    "raw_short": (False, cfg["naive"]["steps"]),
    "raw_long": (False, cfg["working"]["steps"]),
    "standardized_short": (True, cfg["naive"]["steps"]),
    "standardized_long": (True, cfg["working"]["steps"]),
}
assert recipes["raw_short"] == (cfg["naive"]["standardize"], cfg["naive"]["steps"])
assert recipes["standardized_long"] == (cfg["working"]["standardize"], cfg["working"]["steps"])
pretrained, histories = {}, {}
for name, (standardize, steps) in recipes.items():
    stack = nets("sigmoid", cfg["init"])
    histories[name] = pretrain(stack, digits.x_train, seeds=seeds, steps=steps,
                               lr=cfg["pretrain_lr"], standardize=standardize,
                               batch_size=cfg["pretrain_batch"])  # fmt: skip
    pretrained[name] = stack


def recipe_text(standardize: bool, steps: int) -> str:
    target = "its input standardised per unit" if standardize else "its raw input"
    return (f"greedy layer-wise: each of the {cfg['depth']} sigmoid layers in turn is the encoder of "
            f"an autoencoder with a linear decoder, trained on the frozen layers' output to "
            f"reconstruct {target} (mean squared error, Adam lr {cfg['pretrain_lr']:g}, {steps} "
            f"steps of batch {cfg['pretrain_batch']}); decoders discarded, then a fresh output layer "
            f"and all layers fine-tuned by SGD")  # fmt: skip


ch.results["pretrain_recipe"] = recipe_text(True, cfg["working"]["steps"])
ch.results["pretrain_recipe_naive"] = recipe_text(False, cfg["naive"]["steps"])
explained = {
    "naive": torch.stack(histories["raw_short"].explained(), dim=1),
    "working": torch.stack(histories["standardized_long"].explained(), dim=1),
}
for key, tensor in explained.items():
    publish(ch.results, f"recon_explained_{key}", tensor)
publish(ch.results, "recon_target_var_naive",
        torch.stack(histories["raw_short"].target_var, dim=1))  # fmt: skip
ch.results["recon_explained_naive"]

# %% [markdown]
# ## How much each layer's output varies with the input
#
# The per-unit standard deviation of each hidden layer's output across the training images,
# averaged over units: at random init, after each pretraining recipe, and for the ReLU net.

# %%
random_sigmoid = nets("sigmoid", cfg["init"])
relu_he = nets("relu", "kaiming")
std_by_net = {
    "random_sigmoid": hidden_feature_std(random_sigmoid, digits.x_train),
    "pretrained_sigmoid_naive": hidden_feature_std(pretrained["raw_short"], digits.x_train),
    "pretrained_sigmoid": hidden_feature_std(pretrained["standardized_long"], digits.x_train),
    "relu_he": hidden_feature_std(relu_he, digits.x_train),
}
for key, tensor in std_by_net.items():
    publish(ch.results, f"feature_std_{key}", tensor)
collapse = {k: v[:, -1] / v[:, 0] for k, v in std_by_net.items()}
publish_tree(ch.results, "feature_std_last_over_first", collapse)
ch.results["feature_std_last_over_first"]

# %% [markdown]
# ## Fine-tuning: the same budget for every net
#
# Every net gets the same number of plain SGD steps at the same learning rate, each seed its own
# minibatch order. Accuracy is on the held-out test images.

# %%
runs = {
    "random_sigmoid": random_sigmoid,
    "pretrained_sigmoid": pretrained["standardized_long"],
    "pretrained_sigmoid_naive": pretrained["raw_short"],
    "relu_he": relu_he,
    "pretrained_raw_long": pretrained["raw_long"],
    "pretrained_standardized_short": pretrained["standardized_short"],
}
acc, curves, final = {}, {}, {}
for key, stack in runs.items():
    history = fit_seeds(stack, digits.x_train, digits.y_train, seeds=seeds,
                        steps=cfg["finetune_steps"], lr=cfg["finetune_lr"],
                        batch_size=cfg["batch_size"], log_every=cfg["log_every"])  # fmt: skip
    acc[key] = torch.tensor(seed_accuracy(stack, digits.x_test, digits.y_test))
    curves[key] = torch.stack(history.train_loss).T  # (seeds, checkpoints)
    final[key] = torch.stack(history.train_loss[-cfg["final_checkpoints"] :]).mean(0)
steps_logged = history.steps
main = ["random_sigmoid", "pretrained_sigmoid_naive", "pretrained_sigmoid", "relu_he"]
publish_tree(ch.results, "test_acc", {k: acc[k] for k in main})
ablation = {
    "raw_short": acc["pretrained_sigmoid_naive"],
    "raw_long": acc["pretrained_raw_long"],
    "standardized_short": acc["pretrained_standardized_short"],
    "standardized_long": acc["pretrained_sigmoid"],
}
publish_tree(ch.results, "ablation_test_acc", ablation)
publish_tree(ch.results, "final_train_loss", {k: final[k] for k in main})
ch.results["train_loss_steps"] = steps_logged
for key in main:
    publish(ch.results, f"train_loss_curve_{key}", curves[key])
ch.results["test_acc"]

# %% [markdown]
# ## Figures
#
# Each figure is drawn once per language from the same numbers; `tr(english, chinese)` picks the
# label. Lines and bars are the mean over seeds; bands and error bars span the seeds' range.

# %%
NAMES = {
    "random_sigmoid": ("sigmoid, random init", "sigmoid，随机初始化"),
    "pretrained_sigmoid_naive": ("sigmoid, naive pretraining", "sigmoid，朴素预训练"),
    "pretrained_sigmoid": ("sigmoid, working pretraining", "sigmoid，有效的预训练"),
    "relu_he": ("ReLU, He init", "ReLU，He 初始化"),
}
COLORS = {
    "random_sigmoid": color("sigmoid"),
    "pretrained_sigmoid_naive": color("", 4),
    "pretrained_sigmoid": color("", 1),
    "relu_he": color("relu"),
}


def seed_rows(tensor: torch.Tensor) -> list[list[float]]:
    return tensor.tolist()


def draw_feature_std(fig, tr):
    ax = fig.add_subplot()
    layers = list(range(1, cfg["depth"] + 1))
    for key in main:
        band(ax, layers, seed_rows(std_by_net[key]), COLORS[key], tr(*NAMES[key]))
    ax.set_yscale("log")
    ax.set_xlabel(tr("hidden layer (input → output)", "隐藏层（输入 → 输出）"))
    ax.set_ylabel(tr("std across images", "不同图像间的标准差"))
    ax.set_title(tr("How much each layer's output varies with the input, before fine-tuning",
                    "微调之前，各层输出随输入变化的幅度"), fontsize=10)  # fmt: skip
    fig.legend(ncols=2, loc="outside lower center", fontsize=8)


def draw_explained(fig, tr):
    ax = fig.add_subplot()
    layers = list(range(1, cfg["depth"] + 1))
    band(ax, layers, seed_rows(explained["naive"]), COLORS["pretrained_sigmoid_naive"],
         tr("naive: raw target, short", "朴素：原始目标，训练时间短"))  # fmt: skip
    band(ax, layers, seed_rows(explained["working"]), COLORS["pretrained_sigmoid"],
         tr("working: standardised target, longer", "有效：标准化目标，训练更久"))  # fmt: skip
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(tr("hidden layer being pretrained", "正在预训练的隐藏层"))
    ax.set_ylabel(tr("share of target variance\nreconstructed", "重构出的目标方差占比"))
    ax.set_title(tr("What each autoencoder reconstructs beyond the mean",
                    "每个自编码器在均值之外重构出了多少"), fontsize=11)  # fmt: skip
    ax.legend(fontsize=9)


def draw_test_acc(fig, tr):
    ax = fig.add_subplot()
    order = [
        ("random_sigmoid", acc["random_sigmoid"], tr("random", "随机")),
        ("pretrained_sigmoid_naive", ablation["raw_short"], tr("raw\nshort", "原始\n短")),
        ("pretrained_sigmoid_naive", ablation["raw_long"], tr("raw\nlong", "原始\n长")),
        ("pretrained_sigmoid", ablation["standardized_short"], tr("std.\nshort", "标准化\n短")),
        ("pretrained_sigmoid", ablation["standardized_long"], tr("std.\nlong", "标准化\n长")),
        ("relu_he", acc["relu_he"], tr("ReLU\nHe", "ReLU\nHe")),
    ]
    for key, values, label in order:
        bars(ax, [label], [[v] for v in values.tolist()], COLORS[key])
    ax.axhline(0.1, color="#888888", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1)
    ax.set_ylabel(tr("test accuracy", "测试准确率"))
    ax.set_title(tr(f"After {cfg['finetune_steps']} SGD steps ({len(seeds)} seeds; dotted: chance)",
                    f"SGD 微调 {cfg['finetune_steps']} 步后（{len(seeds)} 个种子；点线：随机猜测）"),
                 fontsize=10)  # fmt: skip


def draw_loss(fig, tr):
    ax = fig.add_subplot()
    for key in main:
        band(ax, steps_logged, seed_rows(curves[key]), COLORS[key], tr(*NAMES[key]))
        if key == "pretrained_sigmoid_naive":  # on top of the random net's curve: dash it
            ax.lines[-1].set_linestyle((0, (4, 3)))
    ax.axhline(math.log(10), color="#888888", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel(tr("fine-tuning step", "微调步数"))
    ax.set_ylabel(tr("training loss", "训练损失"))
    ax.set_title(tr("Fine-tuning with plain SGD, same budget", "相同预算的普通 SGD 微调"),
                 fontsize=11)  # fmt: skip
    fig.legend(ncols=2, loc="outside lower center", fontsize=8)


ch.figure("feature_std", draw_feature_std, figsize=(5.6, 4.0))
ch.figure("reconstruction", draw_explained)
ch.figure("test_acc", draw_test_acc)
ch.figure("finetune_loss", draw_loss, figsize=(5.6, 4.0))
ch.finish()
