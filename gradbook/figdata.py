"""The data a figure plots, read back from the drawn matplotlib Figure, as one tidy CSV.

Reading the figure itself (not a list each chapter keeps) means no chapter and no series can be left
out: whatever a `draw(fig, tr)` put on its axes is in the CSV. One row per plotted point, "long"
format, so pandas (`pd.read_csv`), R (`read.csv`) and spreadsheets load it as it is:

    panel   the axes' title, else its number (1, 2, ...) in the figure
    series  the artist's legend label, else "<kind> <n>" (its number among the panel's series);
            an unlabelled band is named after the line of its colour that runs inside it
            (else the colour's first labelled line; ", band <n>" keeps two such bands apart)
    kind    line, hline, vline, errorbar, bar, band, scatter, image, polygon
    x, y    the point (bar: centre and top; band: x only; image: pixel centre; hline: y only)
    z       an image's value at the pixel
    y_low, y_high   a band's lower and upper edge, an error bar's ends
    category        the tick label at x on a categorical axis (bars of named things)
    color           the artist's colour (hex), per point where points differ (scatter by class)
    x_label, y_label, x_scale, y_scale   the panel's axes, to redraw it the same way

Numbers are written with the precision the data has: a value that is exactly a float32 as the
shortest text that reads back as that float32 (`0.48993647`; as a double it is within float32's
rounding, 6e-8 relative), any other as `repr(float(v))`, the shortest text that reads back as
exactly the same double. Either way the bytes depend only on the data (the figures are
byte-reproducible, so is this).
Colorbars are left out: they show the colour scale of an image whose values are already rows.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from typing import Any

COLUMNS = (
    "panel", "series", "kind", "x", "y", "z", "y_low", "y_high", "category", "color",
    "x_label", "y_label", "x_scale", "y_scale",
)  # fmt: skip
Row = dict[str, str]


def num(value: Any) -> str:
    """A number as the shortest text that reads back as the same value; "" for masked/None.

    A value that is exactly a float32 (torch's default dtype, what most chapters record) is
    written with the digits that single out that float32: `0.48993647`, not the double's
    `0.48993647387550393`. Any other value keeps `repr(float)`, which reads back as the same double.
    """
    if value is None or value is _masked():
        return ""
    number = float(value)
    if not math.isfinite(number):
        return str(number)  # nan, inf, -inf
    single = _float32(number)
    return repr(float(str(single))) if float(single) == number else repr(number)


def _float32(number: float) -> Any:
    import numpy as np

    with np.errstate(over="ignore"):  # beyond float32's range: inf, never equal to number
        return np.float32(number)


def _masked() -> Any:
    import numpy as np

    return np.ma.masked


def _hex(rgba: Any) -> str:
    from matplotlib.colors import to_hex

    try:
        return to_hex(rgba, keep_alpha=False)
    except (ValueError, TypeError):
        return ""


def _label(artist: Any) -> str | None:
    label = artist.get_label() if artist is not None else None
    return label if label and not str(label).startswith("_") else None


def _category(axis: Any) -> dict[float, str]:
    """{position: name} of a string-category axis (`ax.bar(["a", "b"], ...)`), else {}."""
    from matplotlib.category import UnitData

    units = axis.get_units()
    if isinstance(units, UnitData):
        return {float(v): str(k) for k, v in units._mapping.items()}  # noqa: SLF001 (no public map)
    return {}


class _Panel:
    """Rows of one axes: numbering of unlabelled series and the axes' own columns."""

    def __init__(self, ax: Any, index: int) -> None:
        self.ax = ax
        self.name = ax.get_title() or ax.get_title(loc="left") or str(index)
        self.cats = _category(ax.xaxis)
        self.count = 0
        self.rows: list[Row] = []
        self.line_names: dict[str, str] = {}  # colour -> label of the first labelled line in it
        self.lines: list[tuple[str, str, Any, Any]] = []  # (colour, series, x, y) of data lines
        self.band_names: set[str] = set()
        self.axes_cols = {
            "x_label": ax.get_xlabel(),
            "y_label": ax.get_ylabel(),
            "x_scale": ax.get_xscale(),
            "y_scale": ax.get_yscale(),
        }

    def series(self, artist: Any, kind: str) -> str:
        self.count += 1
        return _label(artist) or f"{kind} {self.count}"

    def add(self, series: str, kind: str, color: str, **values: Any) -> None:
        row = {c: "" for c in COLUMNS}
        row.update(panel=self.name, series=series, kind=kind, color=color, **self.axes_cols)
        for key, value in values.items():
            row[key] = value if isinstance(value, str) else num(value)
        if "x" in values and values["x"] is not None and not isinstance(values["x"], str):
            row["category"] = self.cats.get(float(values["x"]), "")
        self.rows.append(row)


def _line(panel: _Panel, line: Any) -> None:
    ax = panel.ax
    color = _hex(line.get_color())
    transform = line.get_transform()
    if transform == ax.get_yaxis_transform():  # axhline: x in axes units, y in data
        kind, y = "hline", line.get_ydata(orig=False)[0]
        panel.add(panel.series(line, kind), kind, color, y=y)
        return
    if transform == ax.get_xaxis_transform():  # axvline
        kind, x = "vline", line.get_xdata(orig=False)[0]
        panel.add(panel.series(line, kind), kind, color, x=x)
        return
    series = panel.series(line, "line")
    if _label(line) is not None:
        panel.line_names.setdefault(color, series)
    xs, ys = _floats(line.get_xdata(orig=False)), _floats(line.get_ydata(orig=False))
    panel.lines.append((color, series, xs, ys))
    for x, y in zip(xs, ys, strict=True):
        panel.add(series, "line", color, x=x, y=y)


def _floats(values: Any) -> list[float | None]:
    """Plain Python floats of a data array (None where masked); numbers only, never strings."""
    import numpy as np

    arr = np.ma.asarray(values, dtype=float)
    mask = np.ma.getmaskarray(arr).ravel()
    return [None if m else float(v) for v, m in zip(arr.data.ravel(), mask, strict=True)]


def _errorbar(panel: _Panel, container: Any, owned: set[int]) -> None:
    data_line, caplines, barcols = container.lines
    owned.update(id(a) for a in (data_line, *caplines, *barcols) if a is not None)
    series = panel.series(container, "errorbar")
    color = _hex(data_line.get_color()) if data_line is not None else ""
    xs = _floats(data_line.get_xdata(orig=False)) if data_line is not None else None
    ys = _floats(data_line.get_ydata(orig=False)) if data_line is not None else None
    vertical = [c for c in barcols if _is_vertical(c)] if container.has_yerr else []
    if vertical:
        segments = vertical[0].get_segments()
        color = color or _hex(vertical[0].get_colors()[0])
        for i, seg in enumerate(segments):
            x = float(seg[0][0])
            lo, hi = sorted((float(seg[0][1]), float(seg[1][1])))
            y = ys[i] if ys is not None else None
            panel.add(series, "errorbar", color, x=x, y=y, y_low=lo, y_high=hi)
    elif xs is not None:
        for x, y in zip(xs, ys, strict=True):
            panel.add(series, "errorbar", color, x=x, y=y)


def _is_vertical(collection: Any) -> bool:
    segs = collection.get_segments()
    return bool(segs) and all(len(s) == 2 and s[0][0] == s[1][0] for s in segs)


def _bars(panel: _Panel, container: Any, owned: set[int]) -> None:
    owned.update(id(p) for p in container.patches)
    if container.errorbar is not None:
        owned.update(id(a) for a in _flat(container.errorbar.lines))
    series = panel.series(container, "bar")
    horizontal = getattr(container, "orientation", "vertical") == "horizontal"
    for patch in container.patches:
        color = _hex(patch.get_facecolor())
        if horizontal:  # the bar's length is its value: x, at centre y
            x, y = patch.get_x() + patch.get_width(), patch.get_y() + patch.get_height() / 2
        else:
            x, y = patch.get_x() + patch.get_width() / 2, patch.get_y() + patch.get_height()
        panel.add(series, "bar", color, x=x, y=y)
    if container.errorbar is not None:
        _errorbar(panel, container.errorbar, owned)


def _flat(items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        elif item is not None:
            yield item


def _band(panel: _Panel, coll: Any) -> None:
    """fill_between: each region's polygon runs out along y1 and back along y2 (matplotlib 3.10+).

    An unlabelled band is the range of one line's seeds, in the book's figures, so it takes that
    line's name (the same series, told apart by its kind): see `_band_name`.
    """
    color = _hex(coll.get_facecolor()[0]) if len(coll.get_facecolor()) else ""
    points: list[tuple[float, float, float]] = []  # (x, low, high) of the band's regions
    polygons: list[Any] = []
    for path in coll.get_paths():
        verts = path.vertices
        if len(verts) % 2 == 1:  # a closed polygon repeats its first vertex
            verts = verts[:-1]
        n = (len(verts) - 2) // 2
        upper, lower = verts[1 : n + 1], verts[n + 2 :][::-1]
        if n < 1 or (upper[:, 0] != lower[:, 0]).any():
            polygons.append(verts)
            continue
        for (x, y1), (_, y2) in zip(upper, lower, strict=True):
            lo, hi = sorted((float(y1), float(y2)))
            points.append((float(x), lo, hi))
    series = panel.series(coll, "band")
    if _label(coll) is None:
        series = _band_name(panel, color, points) or series
        if series in panel.band_names:  # two bands, one line: keep them two series
            series = f"{series}, band {panel.count}"
    panel.band_names.add(series)
    for verts in polygons:
        for x, y in verts:
            panel.add(series, "polygon", color, x=x, y=y)
    for x, lo, hi in points:
        panel.add(series, "band", color, x=x, y_low=lo, y_high=hi)


def _band_name(panel: _Panel, color: str, points: list[tuple[float, float, float]]) -> str | None:
    """The line of the band's colour that runs inside it, closest to its middle; else the first
    labelled line of that colour (None without one).

    Two lines of one colour (8 and 56 layers of one family) so each get their own band.
    """
    import numpy as np

    best: tuple[float, str] | None = None
    if points:
        x, lo, hi = (np.asarray(v, dtype=float) for v in zip(*points, strict=True))
        scale = panel.ax.yaxis.get_transform().transform
        with np.errstate(all="ignore"):
            lo, hi = scale(lo), scale(hi)
            for line_color, name, xs, ys in panel.lines:
                if line_color == color:
                    score = _offset(x, lo, hi, xs, ys, scale)
                    if score <= 1 and (best is None or score < best[0]):
                        best = (score, name)
    return best[1] if best is not None else panel.line_names.get(color)


def _offset(x: Any, lo: Any, hi: Any, xs: list, ys: list, scale: Any) -> float:
    """How far a line runs from the band's middle, in half-widths (<= 1: inside); inf if apart.

    On the axis' scale (log10 on a log axis), the median over the band's x within the line's
    range, the line read between its points as matplotlib draws it (straight).
    """
    import numpy as np

    lx, ly = (np.asarray([np.nan if v is None else v for v in a], dtype=float) for a in (xs, ys))
    keep = np.isfinite(lx) & np.isfinite(ly)
    lx, ly = lx[keep], ly[keep]
    if len(lx) == 0:
        return math.inf
    order = np.argsort(lx, kind="stable")
    lx, ly = lx[order], scale(ly[order])
    within = (x >= lx[0]) & (x <= lx[-1])
    off = np.abs(np.interp(x[within], lx, ly) - (lo[within] + hi[within]) / 2)
    half = (hi[within] - lo[within]) / 2
    ratio = np.where(half > 0, off / np.where(half > 0, half, 1), np.where(off > 0, np.inf, 0))
    ratio = ratio[~np.isnan(ratio)]
    return float(np.median(ratio)) if len(ratio) else math.inf


def _scatter(panel: _Panel, coll: Any) -> None:
    series = panel.series(coll, "scatter")
    colors = [_hex(c) for c in coll.get_facecolors()] or [""]
    for i, (x, y) in enumerate(coll.get_offsets()):
        panel.add(series, "scatter", colors[i % len(colors)], x=x, y=y)


def _image(panel: _Panel, image: Any) -> None:
    import numpy as np

    series = panel.series(image, "image")
    values = np.ma.asarray(image.get_array())
    rows, cols = values.shape[:2]
    left, right, bottom, top = image.get_extent()
    dx, dy = (right - left) / cols, (top - bottom) / rows
    # pixel [0, 0] is at the top for origin="upper" (imshow's default), at the bottom for "lower"
    upper = image.origin == "upper"
    for r in range(rows):
        y = (top - (r + 0.5) * dy) if upper else (bottom + (r + 0.5) * dy)
        for c in range(cols):
            z = None if np.ma.getmaskarray(values)[r, c] else values.data[r, c]
            panel.add(series, "image", "", x=left + (c + 0.5) * dx, y=y, z=z)


def panel_rows(ax: Any, index: int) -> list[Row]:
    """The rows of one axes, in drawing order by kind: containers, lines, collections, images."""
    from matplotlib.collections import PathCollection, PolyCollection
    from matplotlib.container import BarContainer, ErrorbarContainer

    panel = _Panel(ax, index)
    owned: set[int] = set()
    for container in ax.containers:
        if isinstance(container, BarContainer):
            _bars(panel, container, owned)
        elif isinstance(container, ErrorbarContainer):
            _errorbar(panel, container, owned)
    for line in ax.lines:
        if id(line) not in owned:
            _line(panel, line)
    for coll in ax.collections:
        if id(coll) in owned:
            continue
        if isinstance(coll, PathCollection):
            _scatter(panel, coll)
        elif isinstance(coll, PolyCollection):
            _band(panel, coll)
    for image in ax.images:
        _image(panel, image)
    return panel.rows


def figure_rows(fig: Any) -> list[Row]:
    """Every plotted point of every panel of `fig` (colorbars left out)."""
    mappables = [*_flat(ax.images for ax in fig.axes), *_flat(ax.collections for ax in fig.axes)]
    colorbars = {id(m.colorbar.ax) for m in mappables if getattr(m, "colorbar", None) is not None}
    panels = [ax for ax in fig.axes if id(ax) not in colorbars]
    return [row for i, ax in enumerate(panels, start=1) for row in panel_rows(ax, i)]


def to_csv(rows: list[Row]) -> bytes:
    """The rows as UTF-8 CSV with a header, "\\n" line ends (the same bytes on every system)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def figure_csv(fig: Any) -> bytes:
    """The CSV of everything `fig` plots."""
    return to_csv(figure_rows(fig))
