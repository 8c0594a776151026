"""Every ```pycell on every page runs on CPython with gradbook.lite, in page order, like the browser.

Cells on a page share one namespace (as they share one Pyodide interpreter). Charts go to a sink
that records and checks each spec against the contract in CONTRIBUTING.md, so a cell that draws a
malformed chart fails here rather than in a reader's browser.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from gradbook.lite import charts

DOCS = Path(__file__).resolve().parent.parent / "docs"
CELL = re.compile(r"^```pycell[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def cells_of(page: Path) -> list[str]:
    return CELL.findall(page.read_text(encoding="utf-8"))


PAGES = sorted(p for p in DOCS.rglob("*.md") if cells_of(p))


def check_spec(spec: dict) -> None:
    """The chart spec contract: kind, labels, x or categories, and equal-length finite-or-null series."""
    assert spec["kind"] in ("line", "bar")
    for key in ("title", "xlabel", "ylabel"):
        assert isinstance(spec[key], str)
    points = spec["x"] if spec["kind"] == "line" else spec["categories"]
    assert points, "a chart needs points"
    assert spec["series"], "a chart needs at least one series"
    for s in spec["series"]:
        assert isinstance(s["name"], str)
        assert len(s["values"]) == len(points)
        assert all(v is None or math.isfinite(v) for v in s["values"])


@pytest.fixture
def chart_sink():
    specs: list[dict] = []

    def sink(spec_json: str) -> None:
        spec = json.loads(spec_json)
        check_spec(spec)
        specs.append(spec)

    charts.set_sink(sink)
    yield specs
    charts.reset_sink()


def test_cell_pattern_finds_cells() -> None:
    page = "text\n\n```pycell\nprint(1)\n```\n\n```python\nx = 2\n```\n\n```pycell\ny = 3\n```\n"
    assert CELL.findall(page) == ["print(1)\n", "y = 3\n"]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_page_cells_run(page: Path, chart_sink: list[dict]) -> None:
    namespace: dict = {"__name__": "__main__"}
    for i, source in enumerate(cells_of(page)):
        try:
            exec(compile(source, f"{page.name}:cell{i}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001 - name the page and the cell
            pytest.fail(f"{page.relative_to(DOCS)} cell {i} raised {type(e).__name__}: {e}")
