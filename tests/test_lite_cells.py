"""The in-browser cells of chapters 01 and 02 run on CPython, draw log-scale charts, stay fast, and
say the same thing in both languages (only comments and strings differ)."""

from __future__ import annotations

import io
import json
import re
import time
import tokenize
from pathlib import Path

import pytest

from gradbook.lite import charts

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ["01_backprop", "02_activations"]
PAGES = [ROOT / "docs" / lang / "chapters" / f"{c}.md" for c in CHAPTERS for lang in ("en", "zh")]
CELL = re.compile(r"^```pycell\n(.*?)^```$", re.S | re.M)


def page_cells(page: Path) -> list[str]:
    return CELL.findall(page.read_text(encoding="utf-8"))


def run_cells(cells: list[str]) -> tuple[list[dict], float]:
    """Run a page's cells in one namespace, like the browser does; return the charts and the time."""
    specs: list[dict] = []
    charts.set_sink(lambda s: specs.append(json.loads(s)))
    scope: dict = {"__name__": "__main__"}
    start = time.perf_counter()
    try:
        for cell in cells:
            exec(compile(cell, "<cell>", "exec"), scope)  # noqa: S102 - the book's own cells
    finally:
        charts.reset_sink()
    return specs, time.perf_counter() - start


def code_tokens(source: str) -> list[str]:
    """The tokens of source without comments and string contents (those are translated)."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    out = []
    for tok in tokens:
        if tok.type in skip:
            continue
        is_text = tokenize.tok_name[tok.type].startswith(("STRING", "FSTRING"))
        out.append("STR" if is_text else tok.string)
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_cells_run_and_draw_log_scale_charts(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "<!-- pycell: added by gradbook.lite -->" not in text
    cells = page_cells(page)
    assert cells, f"{page.name} has no pycell"
    specs, seconds = run_cells(cells)
    assert specs and all(s["kind"] == "line" and s["logy"] for s in specs)
    assert all(
        v is None or v > 0 for s in specs for series in s["series"] for v in series["values"]
    )
    assert seconds < 8.0, f"{page.name}: cells took {seconds:.1f}s on CPython"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_english_and_chinese_cells_are_the_same_code(chapter: str) -> None:
    en, zh = (
        page_cells(ROOT / "docs" / lang / "chapters" / f"{chapter}.md") for lang in ("en", "zh")
    )
    assert [code_tokens(c) for c in en] == [code_tokens(c) for c in zh]


def test_activation_knob_changes_the_story() -> None:
    """Chapter 02's cell: sigmoid loses orders of magnitude across 10 layers, ReLU far less, and
    ReLU with He init keeps the gradient's size (the reader's knobs `activation` and `init`)."""
    (cell, *_) = page_cells(ROOT / "docs" / "en" / "chapters" / "02_activations.md")
    ratios = {}
    for act, init in [("sigmoid", "lecun"), ("relu", "lecun"), ("relu", "kaiming")]:
        source = cell.replace('activation = "sigmoid"', f'activation = "{act}"')
        specs, _ = run_cells([source.replace('init = "lecun"', f'init = "{init}"')])
        values = specs[0]["series"][0]["values"]
        ratios[act, init] = values[0] / values[-1]
    assert ratios["sigmoid", "lecun"] < 1e-4
    assert 1e-2 < ratios["relu", "lecun"] < 1
    assert 0.2 < ratios["relu", "kaiming"] < 5
