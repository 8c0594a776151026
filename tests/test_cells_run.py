"""Every ```pycell on every English page runs on CPython with gradbook.lite, in page order, like the
browser, and the Chinese pages run the same code.

Cells on a page share one namespace (as they share one Pyodide interpreter). Every chart is checked
against the spec contract in CONTRIBUTING.md, so a cell that draws a malformed chart fails here
rather than in a reader's browser.
"""

from __future__ import annotations

import io
import math
import tokenize
from pathlib import Path

import pytest

from bench.cells import DOCS, LANGS, cells_in, page_cells, pages_with_cells, run_cells

PAGES = pages_with_cells()
# CPython runs one language: both run in Pyodide (tests/test_browser.py and test_lite_pyodide.py)
# and the other language's cells are the same code but for comments and strings (compared below).
CPYTHON_PAGES = [p for p in PAGES if p.relative_to(DOCS).parts[0] == LANGS[0]]
# Each page with cells in any language, as its path under docs/<lang>/.
TRANSLATED = sorted({Path(*p.relative_to(DOCS).parts[1:]) for p in PAGES})


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


def code_tokens(source: str) -> list[str]:
    """The tokens of source without comments and string contents (those are translated)."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in skip:
            continue
        is_text = tokenize.tok_name[tok.type].startswith(("STRING", "FSTRING"))
        out.append("STR" if is_text else tok.string)
    return out


def test_every_language_has_cells() -> None:
    assert {p.relative_to(DOCS).parts[0] for p in PAGES} == set(LANGS)


@pytest.mark.parametrize(
    "page", CPYTHON_PAGES, ids=[p.relative_to(DOCS).as_posix() for p in CPYTHON_PAGES]
)
def test_page_cells_run(page: Path) -> None:
    run = run_cells(page_cells(page), name=page.relative_to(DOCS).as_posix())
    for spec in run.charts:
        check_spec(spec)


@pytest.mark.parametrize("page", TRANSLATED, ids=[p.as_posix() for p in TRANSLATED])
def test_english_and_chinese_cells_are_the_same_code(page: Path) -> None:
    """Only comments and strings are translated: the code a reader runs is the same."""
    en, zh = (DOCS / lang / page for lang in LANGS)
    assert en.exists() and zh.exists(), f"{page} has cells but is missing in one language"
    assert [code_tokens(c) for c in page_cells(en)] == [code_tokens(c) for c in page_cells(zh)]


def test_cells_are_found_like_the_site_renders_them() -> None:
    page = "text\n\n```pycell\nprint(1)\n```\n\n```python\nx = 2\n```\n\n```pycell\ny = 3\n```\n"
    assert cells_in(page) == ["print(1)\n", "y = 3\n"]


def test_cell_fences_may_carry_options_tildes_and_list_indentation() -> None:
    page = (
        '```pycell title="a"\na = 1\n```\n'
        "~~~~pycell {.wide}\n```\nb = 2\n~~~~\n"
        "- item\n\n    ```pycell\n    if c:\n        d = 3\n    ```\n"
        "```pycellar\nnot a cell\n```\n"
    )
    assert cells_in(page) == ["a = 1\n", "```\nb = 2\n", "if c:\n    d = 3\n"]


def test_a_cell_shown_inside_a_longer_fence_is_not_a_cell() -> None:
    page = "````markdown\n```pycell\nprint('how to write a cell')\n```\n````\n"
    assert cells_in(page) == []


def test_a_failing_cell_names_its_page_and_cell() -> None:
    with pytest.raises(ZeroDivisionError) as info:
        run_cells(["x = 1", "x / 0"], name="en/p.md")
    assert info.traceback[-1].frame.code.raw.co_filename == "en/p.md:cell1"


def test_cells_share_one_fresh_namespace_and_can_keep_going() -> None:
    run = run_cells(["x = 2", "raise ValueError('on purpose')", "y = x * 3"], keep_going=True)
    assert run.errors == ["ValueError: on purpose (cell 1)"]
    assert run.seconds > 0 and run.charts == []
