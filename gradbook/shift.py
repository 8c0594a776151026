"""Distribution shift made exactly, and the two classic corrections, several seeds at once.

Covariate shift (p(x) moves, p(y | x) stays): importance weights w(x) = p_target(x) / p_source(x)
estimated by a domain classifier, a logistic regression that tells source inputs from target
inputs (Shimodaira 2000; Sugiyama et al. 2007; Bickel et al. 2009). With n_s source and n_t target
inputs, Bayes' rule gives p_t(x) / p_s(x) = (n_s / n_t) * P(target | x) / P(source | x), so the
weight is exp(logit) times that ratio. Training on the weighted loss sum_i w(x_i) l(x_i, y_i)
makes the gradient the one of the target's expected loss.

Label shift (p(y) moves, p(x | y) stays): black-box shift estimation (Lipton et al. 2018). With a
fixed classifier f, C[i, j] = P_source(f(x) = i, y = j) (estimated on held-out labelled source
data) and mu[i] = P_target(f(x) = i) (from unlabelled target data) satisfy mu = C w with
w[j] = q(y = j) / p(y = j): solve, clip at 0, and q = w * p is the estimated target prior.
The classifier's posteriors are corrected by p_t(y | x) proportional to w[y] p_s(y | x).

Stacked tensors have the seed as their first axis: inputs (seeds, n, d), labels (seeds, n).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


def quadratic_features(x: torch.Tensor) -> torch.Tensor:
    """(..., 2) -> (..., 5): x1, x2, x1^2, x2^2, x1 x2. The log-ratio of two Gaussian densities is
    a quadratic function of x, so a logistic regression on these features can represent it."""
    x1, x2 = x[..., :1], x[..., 1:2]
    return torch.cat([x1, x2, x1 * x1, x2 * x2, x1 * x2], dim=-1)


@dataclass
class Logistic:
    """A binary logistic regression per seed, on inputs standardised with the training data's
    mean and std: logit = ((x - mean) / std) theta + b."""

    mean: torch.Tensor  # (seeds, 1, d)
    std: torch.Tensor  # (seeds, 1, d)
    theta: torch.Tensor  # (seeds, d, 1)
    bias: torch.Tensor  # (seeds, 1, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(seeds, n, d) -> (seeds, n)."""
        return torch.baddbmm(self.bias, (x - self.mean) / self.std, self.theta).squeeze(-1)

    def accuracy(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(seeds,): share of examples with (logit > 0) == y."""
        return ((self.logits(x) > 0).to(y.dtype) == y).double().mean(dim=1)


def fit_logistic(
    x: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor | None = None,
    *,
    steps: int,
    lr: float,
) -> Logistic:
    """Full-batch gradient descent on the (weighted) mean logistic loss, every seed at once.

    x (seeds, n, d), y (seeds, n) in {0, 1}, weights (seeds, n) or None (all 1). The gradient of
    seed s is sum_i weights[s, i] * grad l_i / n: the weights scale each example's gradient.
    """
    mean = x.mean(dim=1, keepdim=True)
    std = x.std(dim=1, keepdim=True).clamp_min(1e-12)
    s, _, d = x.shape
    theta = torch.zeros(s, d, 1, dtype=x.dtype, requires_grad=True)
    bias = torch.zeros(s, 1, 1, dtype=x.dtype, requires_grad=True)
    model = Logistic(mean, std, theta, bias)
    w = torch.ones_like(y, dtype=x.dtype) if weights is None else weights.to(x.dtype)
    target = y.to(x.dtype)
    for _ in range(steps):
        per_example = F.binary_cross_entropy_with_logits(model.logits(x), target, reduction="none")
        loss = (w * per_example).mean(dim=1).sum()
        theta.grad = bias.grad = None
        loss.backward()
        with torch.no_grad():
            theta.sub_(lr * theta.grad)
            bias.sub_(lr * bias.grad)
    return Logistic(mean, std, theta.detach(), bias.detach())


def domain_weights(
    source: torch.Tensor, target: torch.Tensor, *, steps: int, lr: float, features=None
) -> torch.Tensor:
    """Importance weights p_t(x) / p_s(x) at the source inputs, from a domain classifier.

    source (seeds, n_s, d), target (seeds, n_t, d) unlabelled; `features` maps inputs to the
    classifier's features (default: the inputs). Returns (seeds, n_s) weights scaled to mean 1 over
    the source (the scale does not change the minimiser, and mean 1 keeps the step size).
    """
    phi = features or (lambda x: x)
    n_s, n_t = source.shape[1], target.shape[1]
    x = phi(torch.cat([source, target], dim=1))
    y = torch.cat([torch.zeros(source.shape[:2]), torch.ones(target.shape[:2])], dim=1)
    clf = fit_logistic(x, y.to(x.dtype), steps=steps, lr=lr)
    w = torch.exp(clf.logits(phi(source))) * (n_s / n_t)
    return w / w.mean(dim=1, keepdim=True)


def normalized(w: torch.Tensor) -> torch.Tensor:
    """Weights (seeds, n) scaled to mean 1 per seed."""
    return w / w.mean(dim=1, keepdim=True)


def effective_sample_size(w: torch.Tensor) -> torch.Tensor:
    """Kish's effective sample size (sum w)^2 / sum w^2 per seed, (seeds,): how many equally
    weighted examples the weighted sample is worth."""
    return w.sum(dim=1) ** 2 / (w * w).sum(dim=1)


# --- label shift ------------------------------------------------------------------------------------


def confusion_joint(pred: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """C[i, j] = share of examples predicted i whose label is j, (k, k); pred and y (n,)."""
    c = torch.zeros(k, k, dtype=torch.float64)
    c.index_put_((pred, y), torch.ones(len(y), dtype=torch.float64), accumulate=True)
    return c / len(y)


def prediction_shares(pred: torch.Tensor, k: int) -> torch.Tensor:
    """mu[i] = share of examples predicted i, (k,)."""
    return torch.bincount(pred, minlength=k).double() / len(pred)


def bbse_weights(confusion: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """Solve C w = mu for the class weights w = q / p (Lipton et al. 2018), clipped at 0."""
    w = torch.linalg.solve(confusion, mu)
    return w.clamp_min(0.0)


def target_prior(weights: torch.Tensor, source_prior: torch.Tensor) -> torch.Tensor:
    """q = w * p, renormalised to sum 1."""
    q = weights * source_prior
    return q / q.sum()


def correct_posteriors(probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """p_t(y | x) proportional to w[y] p_s(y | x); probs (n, k), weights (k,)."""
    p = probs * weights
    return p / p.sum(dim=-1, keepdim=True).clamp_min(1e-300)


def sample_with_prior(
    labels: torch.Tensor, prior: torch.Tensor, n: int, generator: torch.Generator
) -> torch.Tensor:
    """Indices of n examples drawn with replacement so that the labels follow `prior` exactly in
    distribution while p(x | y) stays the pool's: draw a class from the prior, then an example of
    that class uniformly."""
    classes = torch.multinomial(prior, n, replacement=True, generator=generator)
    out = torch.empty(n, dtype=torch.long)
    for c in range(len(prior)):
        members = torch.nonzero(labels == c).squeeze(1)
        where = torch.nonzero(classes == c).squeeze(1)
        if len(where):
            pick = torch.randint(len(members), (len(where),), generator=generator)
            out[where] = members[pick]
    return out
