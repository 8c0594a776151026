"""Charts from cells: build a JSON spec and hand it to the current sink.

The spec is the contract in CONTRIBUTING.md ("gradbook.lite charts"). On CPython the default sink
prints a one-line summary; in the browser the worker installs a sink that posts the spec to the page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence

Sink = Callable[[str], None]


def _summary(spec_json: str) -> None:
    spec = json.loads(spec_json)
    names = ", ".join(s["name"] for s in spec["series"])
    points = len(spec["x"]) if spec["kind"] == "line" else len(spec["categories"])
    axes = "".join(f" {a}" for a in ("logx", "logy") if spec.get(a))
    print(f"[chart] {spec['kind']} {spec['title']!r}: {names} ({points} points{axes})")


_sink: Sink = _summary


def set_sink(fn: Sink) -> None:
    """Send every following chart to `fn(spec_json)`."""
    global _sink
    _sink = fn


def reset_sink() -> None:
    """Go back to the default sink, which prints a one-line summary."""
    global _sink
    _sink = _summary


def _clean(values: Sequence[float | int | str]) -> list:
    """JSON has no NaN or infinity: those points become null (a gap in the chart)."""
    out = []
    for v in values:
        if isinstance(v, str):
            out.append(v)
        else:
            f = float(v)
            out.append(f if math.isfinite(f) else None)
    return out


def _series(series: Mapping[str, Sequence[float]], length: int) -> list[dict]:
    if not series:
        raise ValueError("a chart needs at least one series")
    out = []
    for name, values in series.items():
        if len(values) != length:
            raise ValueError(f"series {name!r} has {len(values)} values, expected {length}")
        out.append({"name": str(name), "values": _clean(values)})
    return out


def _emit(spec: dict) -> dict:
    _sink(json.dumps(spec, allow_nan=False))
    return spec


def line(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
) -> dict:
    """A line chart: one line per series over the shared x values. Returns the spec."""
    spec = {
        "kind": "line",
        "title": title,
        "xlabel": xlabel,
        "ylabel": ylabel,
        "x": _clean(x),
        "series": _series(series, len(x)),
        "logx": bool(logx),
        "logy": bool(logy),
    }
    return _emit(spec)


def bar(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logy: bool = False,
) -> dict:
    """A grouped bar chart: one bar per series in each category. Returns the spec."""
    spec = {
        "kind": "bar",
        "title": title,
        "xlabel": xlabel,
        "ylabel": ylabel,
        "categories": [str(c) for c in categories],
        "series": _series(series, len(categories)),
        "logx": False,
        "logy": bool(logy),
    }
    return _emit(spec)
