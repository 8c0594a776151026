"""Data for cells: a digits subset shipped with the wheel, synthetic sets, the adding problem.

Inputs come back as lists of rows (wrap them in `Tensor` to compute with them); class labels as
lists of ints.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

from .engine import Rows, Tensor
from .rng import Rng

_ALPHABET = "0123456789abcdefg"  # digits.json stores pixel value v as _ALPHABET[v]


@cache
def _digits_file() -> dict:
    text = resources.files(__package__).joinpath("digits.json").read_text(encoding="utf-8")
    return json.loads(text)


def digits() -> tuple[Rows, list[int]]:
    """500 samples of scikit-learn's 8x8 digits (50 per class), standardised per pixel.

    The scaling uses the mean and standard deviation of the full 1797-sample set, so each row equals
    the matching row of `StandardScaler().fit_transform(load_digits().data)`.
    """
    d = _digits_file()
    mean, scale = d["mean"], [s if s != 0.0 else 1.0 for s in d["scale"]]
    pixels = [_ALPHABET.index(ch) for ch in d["pixels"]]
    X = [
        [(float(p) - m) / s for p, m, s in zip(pixels[i : i + 64], mean, scale)]
        for i in range(0, len(pixels), 64)
    ]
    return X, [int(c) for c in d["labels"]]


def digits_split(
    test_fraction: float = 0.2, seed: int = 0
) -> tuple[Rows, list[int], Rows, list[int]]:
    """X_train, y_train, X_test, y_test: a stratified split of `digits()` (same share per class)."""
    X, y = digits()
    rng = Rng(seed)
    train, test = [], []
    for c in sorted(set(y)):
        members = [i for i, label in enumerate(y) if label == c]
        rng.shuffle(members)
        k = round(len(members) * test_fraction)
        test += members[:k]
        train += members[k:]
    rng.shuffle(train)
    rng.shuffle(test)
    return [X[i] for i in train], [y[i] for i in train], [X[i] for i in test], [y[i] for i in test]


def gaussian_inputs(n: int, dim: int, rng: Rng) -> Tensor:
    """A batch of n N(0, 1) input vectors (what chapters 02 and 03 feed a net at init)."""
    return Tensor(rng.normal(n, dim))


def spirals(
    n_per_class: int, rng: Rng, classes: int = 2, noise: float = 0.1
) -> tuple[Rows, list[int]]:
    """Interleaved 2-D spirals, one arm per class: a small set a linear model cannot separate."""
    X, y = [], []
    for c in range(classes):
        for k in range(n_per_class):
            r = k / n_per_class
            angle = 4.0 * r + 2.0 * math.pi * c / classes + rng.gauss(0.0, noise)
            X.append([r * math.sin(angle), r * math.cos(angle)])
            y.append(c)
    order = rng.permutation(len(y))
    return [X[i] for i in order], [y[i] for i in order]


def adding_problem(n: int, length: int, rng: Rng) -> tuple[list[Tensor], Tensor]:
    """Hochreiter & Schmidhuber's adding problem, as `length` inputs of shape (n, 2) and targets.

    Each sequence has values from U[-1, 1] in column 0 and a marker in column 1 that is 1 at two
    positions (one in each half); the target is 0.5 + (x1 + x2) / 4, so it lies in [0, 1] and the
    best constant guess, 0.5, has a mean squared error of about 1/24.
    """
    values = rng.uniform_rows(n, length, -1.0, 1.0)
    half = length // 2
    marks = [(rng.randrange(half), half + rng.randrange(length - half)) for _ in range(n)]
    steps = [
        Tensor([[values[i][t], 1.0 if t in marks[i] else 0.0] for i in range(n)])
        for t in range(length)
    ]
    targets = Tensor(
        [[0.5 + (values[i][a] + values[i][b]) / 4.0] for i, (a, b) in enumerate(marks)]
    )
    return steps, targets


def batches(n: int, batch_size: int, rng: Rng) -> list[list[int]]:
    """Shuffled index lists covering 0..n-1, batch_size each (the last one may be shorter)."""
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def take(rows: list, indices: list[int]) -> list:
    """rows[i] for i in indices (a mini-batch of inputs or labels)."""
    return [rows[i] for i in indices]
