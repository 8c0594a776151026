"""The cells of the book's pages: where they are, and running them as the page does.

Tests and bench share this one harness. A cell is a ```pycell fence on a page under docs/<lang>/
(the fence `gradbook/pages/cells.py` renders); `run_cells` runs a page's cells on CPython with
gradbook.lite, and `script` is the same loop (`bench/cell_loop.py`) as code text for Pyodide.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bench import cell_loop

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
LANGS = ("en", "zh")
NAME = "pycell"

# A fence line: up to three spaces (more when nested in a list), three or more ` or ~, an info string.
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*?)\s*$")
# The info string of a cell: the name alone, or followed by options (```pycell {.x} / title="y").
CELL_INFO = re.compile(rf"^\s*{NAME}(?:$|[\s{{])")
RESULT_MARK = "BENCH_CELLS "


def cells_in(markdown: str) -> list[str]:
    """The sources of the ```pycell fences in `markdown`, in page order.

    Fences are tracked line by line, CommonMark style: a fence closes at a line of the same
    character at least as long, so a cell shown inside a longer ````markdown fence (a page
    explaining how to write one) is not a cell.
    """
    cells: list[str] = []
    opened: tuple[str, int, bool] | None = None  # (fence, indent, is a cell)
    body: list[str] = []
    for line in markdown.splitlines(keepends=True):
        m = FENCE.match(line.rstrip("\r\n"))
        if opened is None:
            if m and not (m["fence"][0] == "`" and "`" in m["info"]):
                opened = (m["fence"], len(m["indent"]), bool(CELL_INFO.match(m["info"])))
                body = []
            continue
        fence, indent, is_cell = opened
        if m and not m["info"] and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence):
            if is_cell:
                cells.append("".join(body))
            opened = None
        elif is_cell:
            body.append(_dedent(line, indent))
    return cells


def _dedent(line: str, indent: int) -> str:
    """Drop up to `indent` leading spaces: a fence nested in a list is indented with its list."""
    stripped = line.lstrip(" ")
    return line[min(indent, len(line) - len(stripped)) :]


def page_cells(page: Path) -> list[str]:
    """The cells of one Markdown page."""
    return cells_in(page.read_text(encoding="utf-8"))


def pages_with_cells(docs: Path = DOCS) -> list[Path]:
    """Every page under `docs` (all languages) that has at least one cell, sorted."""
    return sorted(p for p in docs.rglob("*.md") if page_cells(p))


@dataclass
class CellsRun:
    """What running a page's cells gave: its compute time, its charts, its failing cells."""

    seconds: float
    charts: list[dict]
    errors: list[str]


def run_cells(sources: list[str], name: str = "cell", keep_going: bool = False) -> CellsRun:
    """Run `sources` on CPython as a page runs them (see `bench.cell_loop.run`).

    `name` goes into each cell's file name (`name:cell3`), so a traceback says which page and cell
    failed; without `keep_going` the first failing cell's exception propagates.
    """
    return CellsRun(**cell_loop.run(sources, name, keep_going))


def script(sources: list[str], name: str = "cell") -> str:
    """Python code that runs `sources` with the same loop in any interpreter (Pyodide in a page or
    in node) and prints the outcome: one `BENCH_CELL_ERROR` line per failing cell, then one
    `BENCH_CELLS {json}` line that `parse` reads. Failing cells do not stop the rest."""
    loop = Path(cell_loop.__file__).read_text(encoding="utf-8")
    return (
        f"{loop}\n"
        f"_bench_run = run({sources!r}, {name!r}, keep_going=True)\n"
        "for _bench_err in _bench_run['errors']:\n"
        "    print('BENCH_CELL_ERROR', _bench_err)\n"
        f"print({RESULT_MARK!r} + json.dumps({{'seconds': _bench_run['seconds'], "
        "'charts': len(_bench_run['charts']), 'errors': _bench_run['errors']}))\n"
    )


def parse(output: str) -> dict:
    """The outcome `script` printed: {"seconds", "charts" (how many), "errors"}."""
    found = [line for line in output.splitlines() if line.startswith(RESULT_MARK)]
    if not found:
        raise RuntimeError(f"no {RESULT_MARK.strip()} line in the cells' output:\n{output[-2000:]}")
    return json.loads(found[-1][len(RESULT_MARK) :])
