"""Seed spread on a figure: a mean curve with a min-max band, bars with min-max error bars.

A curve from one seed looks more certain than it is; these two helpers draw every seed's range next
to the mean, the same way in every chapter. Values come seeds first (a list over seeds, each a list
over x), as `gradbook.seeds` keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

BAND_ALPHA = 0.25


def _columns(per_seed: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.asarray(per_seed, dtype=np.float64)  # (seeds, points)
    return values.mean(axis=0), values.min(axis=0), values.max(axis=0)


def band(
    ax: Any, x: Sequence[float], per_seed: Sequence[Sequence[float]], color: str, label: str,
    linewidth: float = 1.2,
) -> None:  # fmt: skip
    """The mean over seeds as a line, the seeds' min-max range as a shaded band behind it."""
    mean, lo, hi = _columns(per_seed)
    ax.fill_between(x, lo, hi, color=color, alpha=BAND_ALPHA, linewidth=0)
    ax.plot(x, mean, color=color, label=label, linewidth=linewidth)


def bars(
    ax: Any, labels: Sequence[str], per_seed: Sequence[Sequence[float]], color: str,
    label: str | None = None,
) -> None:  # fmt: skip
    """Bars at the mean over seeds, error bars spanning the seeds' min-max range."""
    mean, lo, hi = _columns(per_seed)
    ax.bar(labels, mean, color=color, label=label)
    ax.errorbar(labels, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="#333333",
                elinewidth=1.0, capsize=3)  # fmt: skip
