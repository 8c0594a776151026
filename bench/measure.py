"""One measured quantity: its repeated runs, their median, min and max, and its target."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """An upper bound the median must stay under (every gradbook target is a ceiling)."""

    limit: float

    def met(self, value: float) -> bool:
        return value <= self.limit


@dataclass
class Measure:
    """A named number measured `len(runs)` times; the median is the figure we report."""

    key: str  # dotted, stable across runs: "figures.clean.total"
    label: str  # what a reader sees in the table
    unit: str  # "s", "MB", "x"
    runs: list[float]
    target: Target | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.median)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "median": self.median,
            "min": min(self.runs),
            "max": max(self.runs),
            "runs": list(self.runs),
            "target": None if self.target is None else self.target.limit,
            "met": self.met,
            "note": self.note,
            **({"extra": self.extra} if self.extra else {}),
        }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call, in seconds, and what it returned."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


MB = 1024 * 1024


def megabytes(n_bytes: int) -> float:
    """Bytes to MiB, the unit the size targets are written in."""
    return n_bytes / MB
