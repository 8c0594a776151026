"""Data sets for the chapters: digits for training, and small synthetic sets for measurements.

Everything here is deterministic given a seed, lives in memory and needs no network: the book's
numbers must be reproducible offline on a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch


@dataclass(frozen=True)
class Split:
    """A train/test split of a classification problem, as tensors ready for a model."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(torch.cat([self.y_train, self.y_test]).max()) + 1


@lru_cache(maxsize=1)
def _raw_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # imported late: sklearn is slow to import

    bunch = load_digits()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def digits(seed: int = 0, test_size: float = 0.2, dtype: torch.dtype = torch.float32) -> Split:
    """scikit-learn's 8x8 digits (1797 images, 10 classes), split stratified and standardised.

    The mean and standard deviation come from the training part only, so the test set stays unseen.
    Pixels that are constant in the training part (the image border) get a unit scale instead of 0.
    """
    from sklearn.model_selection import train_test_split

    x, y = _raw_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed
    )
    mean = x_tr.mean(axis=0)
    std = x_tr.std(axis=0)
    std[std == 0] = 1.0
    return Split(
        x_train=torch.as_tensor((x_tr - mean) / std, dtype=dtype),
        y_train=torch.as_tensor(y_tr),
        x_test=torch.as_tensor((x_te - mean) / std, dtype=dtype),
        y_test=torch.as_tensor(y_te),
    )


def _generator(seed: int | None) -> torch.Generator | None:
    return None if seed is None else torch.Generator().manual_seed(seed)


def gaussian_batch(
    n: int, dim: int, seed: int | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """A batch of n standard normal inputs of size dim: the 'typical input' of a variance argument.

    With seed=None the global torch generator is used (seeded by Chapter.start).
    """
    return torch.randn(n, dim, generator=_generator(seed), dtype=dtype)


def grid_1d(
    n: int = 256, lo: float = -2.0, hi: float = 2.0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """n evenly spaced scalar inputs on [lo, hi], shaped (n, 1): for looking at a net as a function."""
    return torch.linspace(lo, hi, n, dtype=dtype).unsqueeze(1)


def adding_problem(
    n: int, length: int, seed: int | None = None, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem of Hochreiter & Schmidhuber (1997), for recurrent nets.

    Each sequence has `length` steps of two channels: a value drawn from U[-1, 1] and a marker that
    is 1 at exactly two steps and 0 elsewhere. The target is 0.5 + (x1 + x2) / 4, where x1, x2 are the
    marked values, so it lies in [0, 1]. One mark falls in the first half and one in the second half,
    so the net must carry information across about length/2 steps or more. A constant prediction of
    0.5 scores an MSE of Var((x1 + x2) / 4) = 1/24.

    Returns inputs of shape (n, length, 2) and targets of shape (n,).
    """
    if length < 2:
        raise ValueError("the adding problem needs length >= 2")
    g = _generator(seed)
    values = torch.rand(n, length, generator=g, dtype=dtype) * 2 - 1
    half = length // 2
    first = torch.randint(0, half, (n,), generator=g)
    second = torch.randint(half, length, (n,), generator=g)
    markers = torch.zeros(n, length, dtype=dtype)
    rows = torch.arange(n)
    markers[rows, first] = 1
    markers[rows, second] = 1
    target = 0.5 + (values[rows, first] + values[rows, second]) / 4
    return torch.stack([values, markers], dim=2), target
