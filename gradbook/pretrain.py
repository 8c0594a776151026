"""Greedy layer-wise autoencoder pretraining of a stacked MLP, several seeds at once.

Bengio et al. (2007) pretrain a deep net one hidden layer at a time: layer l is the encoder of an
autoencoder whose input is what layers 1..l-1 (already trained, frozen) make of the data; a decoder
maps the code back to that input and both are trained to reconstruct it. The decoders are then
thrown away and the whole stack, with a fresh output layer, is fine-tuned on the labels.

Everything here works on a `gradbook.seeds.StackedMLP`: layer l of seed s is `weights[l][s]`
(fan_in, fan_out), so each seed's autoencoder is trained on its own features with its own
minibatch order, all seeds in one batched matmul (`torch.baddbmm`). The hidden layers of the stack
are overwritten in place with the pretrained encoders; the output layer keeps its random init.

Two recipes differ in one line, the reconstruction target:

- `standardize=False`: reconstruct the layer's input as it is (mean squared error on raw sigmoid
  outputs). Deep sigmoid features vary little across images, so a decoder bias equal to the mean
  already reconstructs them almost perfectly and the encoder is barely pushed to encode anything.
- `standardize=True`: reconstruct the input standardised per unit (its mean and standard deviation
  over the training set), so that every unit's variation across images, however small, has to be
  carried through the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from gradbook.seeds import StackedMLP


@dataclass
class PretrainHistory:
    """Per hidden layer, each a (seeds,) tensor: the autoencoder's reconstruction loss before and
    after training, the target's variance (per unit over the training set, mean over units), and
    the per-unit std of the pretrained layer's output across training images, mean over units."""

    loss_start: list[torch.Tensor] = field(default_factory=list)
    loss_end: list[torch.Tensor] = field(default_factory=list)
    target_var: list[torch.Tensor] = field(default_factory=list)
    feature_std: list[torch.Tensor] = field(default_factory=list)

    def explained(self) -> list[torch.Tensor]:
        """Per layer: the share of the target's variance the autoencoder reconstructs,
        1 - MSE / Var. Near 0 means the decoder's bias (the target's mean) does all the work."""
        return [1 - loss / var for loss, var in zip(self.loss_end, self.target_var, strict=True)]


def standardize_target(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(seeds, n, units) -> each unit of each seed at mean 0 and std 1 over the n examples.

    A unit constant over the data (std below `eps`) becomes 0 rather than 0/0.
    """
    mean = h.mean(dim=1, keepdim=True)
    std = h.std(dim=1, keepdim=True)
    return (h - mean) / std.clamp_min(eps)


def feature_std(h: torch.Tensor) -> torch.Tensor:
    """(seeds, n, units) -> (seeds,): each unit's std over the examples, averaged over units."""
    return h.std(dim=1).mean(dim=1)


def _generators(seeds: Sequence[int], layer: int) -> list[torch.Generator]:
    """One generator per seed and layer: seed s's draws do not depend on the rest of the stack."""
    return [torch.Generator().manual_seed(1000 * seed + layer) for seed in seeds]


def _next_batch(gens: list[torch.Generator], n: int, batch_size: int) -> torch.Tensor:
    """One random minibatch of indices per seed, (seeds, batch)."""
    return torch.stack([torch.randperm(n, generator=g)[:batch_size] for g in gens])


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per seed, (seeds,), from (seeds, batch, units)."""
    return ((pred - target) ** 2).mean(dim=(1, 2))


def pretrain(
    model: StackedMLP,
    x: torch.Tensor,
    *,
    seeds: Sequence[int],
    steps: int,
    lr: float,
    standardize: bool,
    batch_size: int = 64,
) -> PretrainHistory:
    """Greedy layer-wise autoencoder pretraining of `model`'s hidden layers, in place.

    For hidden layer l (input h of width m, code width k): encoder c = act(h W_l + b_l), the
    layer's own weights and activation; decoder r = c V + a, linear, V (k, m) drawn
    U(-1/sqrt(k), 1/sqrt(k)), a = 0. Adam at `lr` for `steps` minibatch steps on the mean squared
    error between r and the target (h, or h standardised per unit when `standardize`). Seed s
    draws its minibatches from its own generator. Layers below l are frozen while l trains.
    """
    if len(seeds) != model.n_seeds:
        raise ValueError(f"{len(seeds)} seeds for a stack of {model.n_seeds} nets")
    history = PretrainHistory()
    n = len(x)
    batch_size = min(batch_size, n)
    h = x.expand(model.n_seeds, *x.shape).contiguous()
    hidden = len(model.names) - 1
    for layer in range(hidden):
        w, b = model.weights[layer], model.biases[layer]
        target = standardize_target(h) if standardize else h
        k, m = w.shape[2], h.shape[2]
        gens = _generators(seeds, layer + 1)
        bound = 1.0 / k**0.5
        v = torch.stack(
            [(torch.rand(k, m, generator=g, dtype=h.dtype) * 2 - 1) * bound for g in gens]
        )
        v.requires_grad_(True)
        a = torch.zeros(model.n_seeds, 1, h.shape[2], dtype=h.dtype, requires_grad=True)
        enc_w = w.detach().clone().requires_grad_(True)
        enc_b = b.detach().clone().requires_grad_(True)
        params = [enc_w, enc_b, v, a]
        opt = torch.optim.Adam(params, lr=lr)

        def recon(inputs: torch.Tensor, p: list[torch.Tensor] = params) -> torch.Tensor:
            code = model.act(torch.baddbmm(p[1], inputs, p[0]))
            return torch.baddbmm(p[3], code, p[2])

        with torch.no_grad():
            history.loss_start.append(reconstruction_loss(recon(h), target))
            history.target_var.append(target.var(dim=1, correction=0).mean(dim=1))
        rows = torch.arange(model.n_seeds)[:, None]
        for _ in range(steps):
            idx = _next_batch(gens, n, batch_size)
            loss = reconstruction_loss(recon(h[rows, idx]), target[rows, idx]).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            history.loss_end.append(reconstruction_loss(recon(h), target))
            w.copy_(enc_w)
            b.copy_(enc_b)
            h = model.act(torch.baddbmm(b, h, w))
            history.feature_std.append(feature_std(h))
    return history


@torch.no_grad()
def hidden_feature_std(model: StackedMLP, x: torch.Tensor) -> torch.Tensor:
    """(seeds, hidden layers): each hidden layer's per-unit std across `x`, mean over units."""
    outs = list(model.layers_out(x))[:-1]
    return torch.stack([feature_std(h) for h in outs], dim=1)
