"""The in-browser cells of chapters 01 and 02 run on CPython and draw log-scale charts, and the reader's
knobs in chapter 02 change the story the way the prose says. (That every page's cells run, and are the
same code in both languages, is tests/test_cells_run.py; how fast they run is `make bench`.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cells import DOCS, LANGS, page_cells, run_cells

CHAPTERS = ["01_backprop", "02_activations"]
PAGES = [DOCS / lang / "chapters" / f"{c}.md" for c in CHAPTERS for lang in LANGS]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_cells_run_and_draw_log_scale_charts(page: Path) -> None:
    assert "<!-- pycell: added by gradbook.lite -->" not in page.read_text(encoding="utf-8")
    cells = page_cells(page)
    assert cells, f"{page.name} has no pycell"
    specs = run_cells(cells, name=page.name).charts
    assert specs and all(s["kind"] == "line" and s["logy"] for s in specs)
    assert all(
        v is None or v > 0 for s in specs for series in s["series"] for v in series["values"]
    )


def test_activation_knob_changes_the_story() -> None:
    """Chapter 02's cell: sigmoid loses orders of magnitude across 10 layers, ReLU far less, and
    ReLU with He init keeps the gradient's size (the reader's knobs `activation` and `init`)."""
    (cell, *_) = page_cells(DOCS / "en" / "chapters" / "02_activations.md")
    ratios = {}
    for act, init in [("sigmoid", "lecun"), ("relu", "lecun"), ("relu", "kaiming")]:
        source = cell.replace('activation = "sigmoid"', f'activation = "{act}"')
        specs = run_cells([source.replace('init = "lecun"', f'init = "{init}"')]).charts
        values = specs[0]["series"][0]["values"]
        ratios[act, init] = values[0] / values[-1]
    assert ratios["sigmoid", "lecun"] < 1e-4
    assert 1e-2 < ratios["relu", "lecun"] < 1
    assert 0.2 < ratios["relu", "kaiming"] < 5
