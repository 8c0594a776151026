"""Data for cells, the twin of `gradbook.data`: digits (a subset shipped with the wheel), Gaussian
batches, the adding problem; plus `batches` and `take` for mini-batches.

Digits come back as lists of rows (wrap them in `Tensor` to compute with them) and lists of ints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .engine import Rows, Tensor
from .rng import Rng

_ALPHABET = "0123456789abcdefg"  # digits.json stores pixel value v as _ALPHABET[v]


@cache
def _digits_file() -> dict:
    text = resources.files(__package__).joinpath("digits.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Split:
    """A train/test split of a classification problem: rows of inputs and lists of labels."""

    x_train: Rows
    y_train: list[int]
    x_test: Rows
    y_test: list[int]

    @property
    def n_features(self) -> int:
        return len(self.x_train[0])

    @property
    def n_classes(self) -> int:
        return max(self.y_train + self.y_test) + 1


def _stratified(labels: list[int], test_size: float, seed: int) -> tuple[list[int], list[int]]:
    """Train and test indices: the same share of every class in the test part, shuffled."""
    rng = Rng(seed)
    train, test = [], []
    for c in sorted(set(labels)):
        members = [i for i, label in enumerate(labels) if label == c]
        rng.shuffle(members)
        k = round(len(members) * test_size)
        test += members[:k]
        train += members[k:]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def digits(seed: int = 0, test_size: float = 0.2) -> Split:
    """scikit-learn's 8x8 digits, split stratified and standardised: `gradbook.data.digits` in small.

    As in the torch version, the mean and standard deviation come from the training part only, and
    pixels constant there get a unit scale. Smaller for the browser: 500 of the 1797 images (50 per
    class, shipped in the wheel), a split drawn by lite's own generator (not scikit-learn's), and
    lists of rows and ints instead of tensors.
    """
    d = _digits_file()
    pixels = [float(_ALPHABET.index(ch)) for ch in d["pixels"]]
    raw = [pixels[i : i + 64] for i in range(0, len(pixels), 64)]
    labels = [int(c) for c in d["labels"]]
    train, test = _stratified(labels, test_size, seed)
    n = len(train)
    cols = list(zip(*(raw[i] for i in train)))
    mean = [math.fsum(c) / n for c in cols]
    std = [math.sqrt(math.fsum((v - m) ** 2 for v in c) / n) for c, m in zip(cols, mean)]
    scale = [s if s != 0.0 else 1.0 for s in std]

    def rows(idx: list[int]) -> Rows:
        return [[(v - m) / s for v, m, s in zip(raw[i], mean, scale)] for i in idx]

    return Split(rows(train), [labels[i] for i in train], rows(test), [labels[i] for i in test])


def _generator(seed: int | None, rng: Rng | None) -> Rng:
    """rng itself, or a fresh Rng(seed): lite has no global generator to fall back on."""
    if rng is not None:
        return rng
    if seed is None:
        raise ValueError("pass seed= or rng= (gradbook.lite has no global random generator)")
    return Rng(seed)


def gaussian_batch(n: int, dim: int, seed: int | None = None, *, rng: Rng | None = None) -> Tensor:
    """A batch of n standard normal inputs of size dim: the 'typical input' of a variance argument."""
    return Tensor(_generator(seed, rng).normal(n, dim))


def adding_problem(
    n: int, length: int, seed: int | None = None, *, rng: Rng | None = None
) -> tuple[list[Tensor], Tensor]:
    """The adding problem of Hochreiter & Schmidhuber (1997), for recurrent nets.

    Each sequence has `length` steps of two channels: a value drawn from U[-1, 1] and a marker that
    is 1 at exactly two steps, one in each half. The target is 0.5 + (x1 + x2) / 4, so it lies in
    [0, 1] and the best constant guess, 0.5, has a mean squared error of 1/24.

    Lite's tensors are 2-D, so where torch returns inputs (n, length, 2) and targets (n,), this
    returns `length` step inputs of shape (n, 2) and targets of shape (n, 1).
    """
    if length < 2:
        raise ValueError("the adding problem needs length >= 2")
    g = _generator(seed, rng)
    values = g.uniform_rows(n, length, -1.0, 1.0)
    half = length // 2
    marks = [(g.randrange(half), half + g.randrange(length - half)) for _ in range(n)]
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
