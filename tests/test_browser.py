"""Cells in a real Chromium against the built site: run, chart, stop, errors, safety, speed.

Every request to a host other than the local server is aborted and counted; each test asserts the
count is zero. One page per language is shared by the tests of that language (Pyodide loads once),
and the tests edit the playground's last cell ("Your turn") to run their own code.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import (  # noqa: F401  (CHROMIUM*: the browser fixture lives there)
    CHROMIUM,
    CHROMIUM_ARGS,
    chromium_language,
    new_visit,
)

from gradbook.serve import ISOLATION_HEADERS

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[1]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOAD_TIMEOUT_MS = 120_000  # a cold Pyodide start on a busy 2-core machine takes 15-30 s
SCRATCH = -1  # the playground's last cell is free for the tests to edit

PLAYGROUND = {"en": "playground/", "zh": "zh/playground/"}
BUTTONS = {"en": ("Run", "Stop", "Reset"), "zh": ("运行", "停止", "重置")}


@dataclass
class Guard:
    """Counts (and aborts) requests that leave the local server."""

    foreign: list[str] = field(default_factory=list)
    local: int = 0

    def route(self, route: object) -> None:
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            self.local += 1
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()


@dataclass
class CellPage:
    page: object
    guard: Guard
    lang: str
    timings: dict[str, float]

    def cell(self, index: int):
        return self.page.locator(".pycell").nth(index if index >= 0 else self.count() + index)

    def count(self) -> int:
        return self.page.locator(".pycell").count()

    def index(self, index: int) -> int:
        return index if index >= 0 else self.count() + index

    def state(self, index: int) -> str | None:
        return self.cell(index).get_attribute("data-state")

    def set_code(self, index: int, code: str) -> None:
        """Replace the cell's code the way a reader would: select all, then type (paste-like)."""
        self.cell(index).locator(".cm-content").click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.insert_text(code)

    def code(self, index: int) -> str:
        return self.page.evaluate(
            "i => window.gradbookCells.cells[i].editor.state.doc.toString()", self.index(index)
        )

    def click(self, index: int, which: str) -> None:
        self.cell(index).locator(f".pycell-{which}").click()

    def wait_state(self, index: int, states: tuple[str, ...], timeout: float = LOAD_TIMEOUT_MS):
        self.page.wait_for_function(
            "([i, states]) => states.includes(document.querySelectorAll('.pycell')[i].dataset.state)",
            arg=[self.index(index), list(states)],
            timeout=timeout,
        )
        return self.state(index)

    def run(self, index: int, code: str | None = None, timeout: float = LOAD_TIMEOUT_MS) -> str:
        if code is not None:
            self.set_code(index, code)
        self.click(index, "run")
        return self.wait_state(index, ("done", "error", "stopped", "cancelled"), timeout)

    def output(self, index: int) -> str:
        return self.cell(index).locator(".pycell-output").text_content() or ""

    def stderr(self, index: int) -> str:
        return "".join(self.cell(index).locator(".pycell-stderr").all_text_contents())

    def kernel(self, expression: str):
        return self.page.evaluate(f"() => window.gradbookCells.kernel.{expression}")

    def wait_ready(self, timeout: float = LOAD_TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            "() => window.gradbookCells.kernel.state === 'ready'", timeout=timeout
        )


def open_page(
    browser,
    url: str,
    lang: str,
    headers: dict[str, str] | None = None,
    block: str | None = None,
    service_workers: str = "block",
) -> CellPage:
    context = new_visit(browser, service_workers=service_workers)
    guard = Guard()
    if headers:
        # Serve the page cross-origin isolated, as a host with COOP/COEP headers would.
        def isolate(route):
            host = urlparse(route.request.url).hostname
            if host not in LOCAL_HOSTS:
                guard.route(route)
                return
            guard.local += 1
            try:
                response = route.fetch()
                route.fulfill(response=response, headers={**response.headers, **headers})
            except sync_api.Error as err:
                # The test closed its context while the service worker was still saving the book
                # for offline (it takes longer on a busy machine): Playwright would raise that in
                # the next test's first call. What the page itself asked for was served.
                if "disposed" not in str(err) and "closed" not in str(err):
                    raise

        context.route("**/*", isolate)
    else:
        context.route("**/*", guard.route)
    if block:  # registered last, so it wins over the catch-all route
        context.route(block, lambda route: route.fulfill(status=404, body="gone"))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(url)
    page.wait_for_function("() => window.gradbookCells !== undefined")
    cell_page = CellPage(page=page, guard=guard, lang=lang, timings={})
    cell_page.errors = errors
    return cell_page


@pytest.fixture(scope="module", params=["en", "zh"])
def playground(request, browser, site_server: str) -> Iterator[CellPage]:
    lang = request.param
    cell_page = open_page(browser, site_server + PLAYGROUND[lang], lang)
    yield cell_page
    assert cell_page.guard.foreign == []
    assert cell_page.errors == []
    cell_page.page.context.close()


@pytest.fixture()
def pg(playground: CellPage) -> Iterator[CellPage]:
    """The shared page; after each test, nothing left the local server and the page is usable."""
    yield playground
    assert playground.guard.foreign == [], playground.guard.foreign
    playground.page.evaluate("() => 1 + 1")


def test_ui_speaks_the_page_language(pg: CellPage) -> None:
    assert pg.page.evaluate("document.documentElement.lang").startswith(pg.lang)
    run, stop, reset = BUTTONS[pg.lang]
    first = pg.cell(0)
    assert first.locator(".pycell-run").inner_text() == run
    assert first.locator(".pycell-stop").inner_text() == stop
    assert first.locator(".pycell-reset").inner_text() == reset
    assert first.locator(".cm-editor").count() == 1


def test_first_cell_prints_expected_numbers(pg: CellPage) -> None:
    start = time.perf_counter()
    pg.click(0, "run")
    pg.cell(0).locator(".pycell-output").wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
    first_output = time.perf_counter() - start
    assert pg.wait_state(0, ("done", "error")) == "done"
    lines = pg.output(0).split("\n")
    assert lines[:4] == [
        "1 0.25",
        "5 0.0009765625",
        "10 9.5367431640625e-07",
        "20 9.094947017729282e-13",
    ]
    # Pyodide loaded its runtime, stdlib and the gradbook-lite wheel from our own server.
    assert pg.guard.local > 5 and pg.guard.foreign == []
    timings = pg.kernel("timings")
    print(
        f"\n[{pg.lang}] cold Run -> first output: {first_output:.1f} s "
        f"(loadPyodide {timings['pyodideMs'] / 1000:.1f} s, "
        f"gradbook-lite {timings['packagesMs'] / 1000:.1f} s)"
    )


def test_line_and_bar_charts_show_their_series(pg: CellPage) -> None:
    assert pg.run(1) == "done"
    assert pg.run(2) == "done"
    line = pg.cell(1).locator(".pycell-chart")
    assert line.get_attribute("data-kind") == "line"
    assert line.locator("canvas").count() >= 1
    labels = line.locator(".u-legend .u-series .u-label").all_inner_texts()
    expected = {
        "en": ["factor 0.25 (sigmoid)", "factor 1.0", "factor 1.5"],
        "zh": ["因子 0.25（sigmoid）", "因子 1.0", "因子 1.5"],
    }[pg.lang]
    assert labels[1:] == expected
    title = {"en": "Gradient scale after d layers", "zh": "经过 d 层后的梯度缩放"}[pg.lang]
    assert line.locator(".u-title").inner_text() == title
    # the chart call returns its spec, which must not be echoed as text
    assert pg.cell(1).locator(".pycell-text").count() == 0

    bar = pg.cell(2).locator(".pycell-chart")
    assert bar.get_attribute("data-kind") == "bar"
    bar_labels = bar.locator(".u-legend .u-series .u-label").all_inner_texts()
    assert (
        bar_labels[1:]
        == {
            "en": ["max derivative", "derivative at 2"],
            "zh": ["最大导数", "x=2 处的导数"],
        }[pg.lang]
    )


def test_exception_shows_a_trimmed_traceback(pg: CellPage) -> None:
    code = "def f(x):\n    return x / 0\n\nf(1)\n"
    assert pg.run(SCRATCH, code) == "error"
    err = pg.stderr(SCRATCH)
    assert err.startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in err
    assert f'File "<cell {pg.count()}>", line 4' in err
    assert "return x / 0" in err  # the cell's own source line is quoted
    assert "_pyodide" not in err and "eval_code" not in err and "runner" not in err


def test_python_starts_from_bytecode_and_still_quotes_stdlib_source(pg: CellPage) -> None:
    """web/precompile.mjs: the stdlib modules Python starts with load from .pyc in the zip, and
    gradbook-lite from the .pyc shipped in its wheel (unchecked hash-based: flags 1, not the
    timestamp .pyc Python writes itself), so nothing is compiled at start-up; a traceback through
    them still quotes their source (the .py files stay)."""
    code = (
        "import asyncio, importlib.util, json, traceback\n"
        "import gradbook.lite.engine as engine\n"
        "print([m.__file__.rsplit('.', 1)[1] for m in (asyncio, json, traceback)])\n"
        "with open(importlib.util.cache_from_source(engine.__file__), 'rb') as f:\n"
        "    print('lite flags', int.from_bytes(f.read(8)[4:], 'little'))\n"
        "json.loads('{')\n"
    )
    assert pg.run(SCRATCH, code) == "error"
    assert pg.output(SCRATCH).startswith("['pyc', 'pyc', 'pyc']\nlite flags 1")
    err = pg.stderr(SCRATCH)
    assert "json/decoder.py" in err and "JSONDecodeError" in err
    assert "obj, end = self.raw_decode(s, idx=_w(s, 0).end())" in err  # a stdlib line, quoted


def test_exception_inside_a_chart_call_shows_its_traceback(pg: CellPage) -> None:
    code = "from gradbook.lite import charts\ncharts.line(x=[1, 2, 3], series={'a': [1, 2]})\n"
    assert pg.run(SCRATCH, code) == "error"
    err = pg.stderr(SCRATCH)
    assert "Traceback" in err and "ValueError" in err
    assert "charts.py" in err
    assert pg.cell(SCRATCH).locator(".pycell-chart").count() == 0


def test_printed_html_is_shown_as_text(pg: CellPage) -> None:
    payload = '<img src=x onerror="window.__pwned = 1"><b>bold</b>'
    assert pg.run(SCRATCH, f"print({payload!r})") == "done"
    assert pg.output(SCRATCH).strip() == payload
    output = pg.cell(SCRATCH).locator(".pycell-output")
    assert output.locator("img").count() == 0 and output.locator("b").count() == 0
    pg.page.wait_for_timeout(300)
    assert pg.page.evaluate("() => window.__pwned") is None


def test_reset_restores_the_original_code(pg: CellPage) -> None:
    pg.set_code(0, "print('edited')")
    assert pg.code(0) == "print('edited')"
    pg.click(0, "reset")
    assert pg.code(0) == "for depth in [1, 5, 10, 20]:\n    print(depth, 0.25 ** depth)"


def test_page_keeps_responding_and_output_streams_while_a_cell_runs(pg: CellPage) -> None:
    code = (
        "import time\nprint('started')\nt = time.time()\n"
        "while time.time() - t < 4:\n    pass\nprint('slept')\n"
    )
    pg.set_code(SCRATCH, code)
    pg.click(SCRATCH, "run")
    pg.wait_state(SCRATCH, ("running",))
    # printed text shows up before the cell finishes
    pg.cell(SCRATCH).locator(".pycell-stdout", has_text="started").wait_for(timeout=3_000)
    assert pg.state(SCRATCH) == "running"
    assert pg.page.evaluate("() => 6 * 7") == 42
    pg.set_code(0, "print('edited')")
    pg.click(0, "reset")  # another cell's button still works while this one runs
    assert pg.code(0).startswith("for depth in")
    assert pg.state(SCRATCH) == "running"
    assert pg.wait_state(SCRATCH, ("done",)) == "done"
    assert pg.output(SCRATCH).split() == ["started", "slept"]


def test_charts_are_redrawn_for_the_dark_scheme(pg: CellPage) -> None:
    chart = pg.cell(1).locator(".pycell-chart")
    assert chart.locator(".uplot").count() == 1
    chart.locator(".uplot").evaluate("el => { window.__plotBefore = el; }")
    pg.page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    pg.page.wait_for_function(
        "() => { const p = document.querySelectorAll('.pycell')[1].querySelector('.uplot');"
        " return p && p !== window.__plotBefore; }"
    )
    assert chart.locator(".uplot").count() == 1
    assert len(chart.locator(".u-legend .u-label").all_inner_texts()) == 4
    pg.page.evaluate("document.body.setAttribute('data-md-color-scheme', 'default')")


def test_megabyte_of_output_is_truncated(pg: CellPage) -> None:
    code = "print('x' * 1_000_000)\nfor i in range(100_000):\n    print(i)\n"
    start = time.perf_counter()
    assert pg.run(SCRATCH, code) == "done"
    took = time.perf_counter() - start
    text = pg.cell(SCRATCH).locator(".pycell-text").first.text_content()
    assert 150_000 <= len(text) <= 200_000
    notice = pg.cell(SCRATCH).locator(".pycell-notice").inner_text()
    assert {"en": "truncated", "zh": "截断"}[pg.lang] in notice
    assert pg.page.evaluate("() => document.querySelectorAll('.pycell').length") == pg.count()
    print(f"\n[{pg.lang}] 1 MB print + 100k lines: {took:.1f} s")


def test_infinite_loop_is_stopped_and_the_cell_runs_again(pg: CellPage) -> None:
    assert pg.run(SCRATCH, "marker = 'before'\n") == "done"
    pg.set_code(SCRATCH, "while True:\n    pass\n")
    pg.click(SCRATCH, "run")
    pg.wait_state(SCRATCH, ("running",))
    pg.page.wait_for_timeout(500)
    epoch = pg.kernel("epoch")
    start = time.perf_counter()
    pg.click(SCRATCH, "stop")
    assert pg.wait_state(SCRATCH, ("stopped",), timeout=5_000) == "stopped"
    stopped = time.perf_counter() - start
    pg.wait_ready()
    ready = time.perf_counter() - start
    # Without cross-origin isolation the worker is replaced: the state is gone and earlier cells say so.
    assert pg.kernel("epoch") == epoch + 1
    assert pg.state(0) == "stale"
    assert pg.run(SCRATCH, "print('again', 'marker' in globals())") == "done"
    assert pg.output(SCRATCH).strip() == "again False"
    assert pg.state(0) == "done"  # running a cell reruns the earlier cells first
    print(f"\n[{pg.lang}] Stop -> stopped {stopped:.2f} s, -> ready {ready:.1f} s")


def test_stop_swaps_in_the_standby_worker(pg: CellPage) -> None:
    """Not isolated: once the page is idle a spare worker boots; Stop promotes it, ready at once."""
    assert pg.run(SCRATCH, "kept = 'before'\n") == "done"
    pg.page.wait_for_function(
        "() => { const s = window.gradbookCells.kernel.spare; return s && s.state === 'ready'; }",
        timeout=LOAD_TIMEOUT_MS,
    )
    pg.page.evaluate("() => { window.__spare = window.gradbookCells.kernel.spare; }")
    epoch = pg.kernel("epoch")
    pg.set_code(SCRATCH, "while True:\n    pass\n")
    pg.click(SCRATCH, "run")
    pg.wait_state(SCRATCH, ("running",))
    pg.click(SCRATCH, "stop")
    assert pg.wait_state(SCRATCH, ("stopped",), timeout=5_000) == "stopped"
    # the spare took over, already booted: no "Loading Python" for the next run
    assert pg.page.evaluate("() => window.gradbookCells.kernel.boot === window.__spare")
    assert pg.kernel("state") == "ready"
    assert pg.kernel("epoch") == epoch + 1
    status = pg.cell(SCRATCH).locator(".pycell-status").inner_text()
    assert {"en": "variables are reset", "zh": "变量已清空"}[pg.lang] in status
    assert pg.run(SCRATCH, "print('again', 'kept' in globals())") == "done"
    assert pg.output(SCRATCH).strip() == "again False"
    # and a new spare boots for the next Stop
    pg.page.wait_for_function(
        "() => { const s = window.gradbookCells.kernel.spare;"
        " return s && s !== window.__spare && s.state === 'ready'; }",
        timeout=LOAD_TIMEOUT_MS,
    )


def test_ten_run_stop_cycles_leave_the_page_working(pg: CellPage) -> None:
    pg.set_code(SCRATCH, "while True:\n    pass\n")
    for cycle in range(10):
        pg.click(SCRATCH, "run")
        pg.page.wait_for_timeout(150 + 60 * cycle)
        pg.click(SCRATCH, "stop")
        state = pg.wait_state(SCRATCH, ("stopped", "cancelled"), timeout=5_000)
        assert state in ("stopped", "cancelled")
    assert pg.run(SCRATCH, "print(6 * 7)") == "done"
    assert pg.output(SCRATCH).strip() == "42"
    assert pg.run(0) == "done"


def stop_keeps_variables(cp: CellPage) -> float:
    """On an isolated page, Stop interrupts a runaway cell in place; returns Stop's seconds."""
    assert cp.page.evaluate("() => crossOriginIsolated") is True
    assert cp.run(SCRATCH, "kept = 41\n") == "done"
    epoch = cp.kernel("epoch")
    cp.set_code(SCRATCH, "while True:\n    pass\n")
    cp.click(SCRATCH, "run")
    cp.wait_state(SCRATCH, ("running",))
    start = time.perf_counter()
    cp.click(SCRATCH, "stop")
    assert cp.wait_state(SCRATCH, ("stopped",), timeout=5_000) == "stopped"
    took = time.perf_counter() - start
    assert "KeyboardInterrupt" in cp.stderr(SCRATCH)
    assert cp.kernel("epoch") == epoch  # interrupted in place, not restarted
    assert cp.run(SCRATCH, "print(kept + 1)") == "done"
    assert cp.output(SCRATCH).strip() == "42"
    return took


def test_interrupt_keeps_state_when_cross_origin_isolated(browser, site_server: str) -> None:
    cp = open_page(browser, site_server + PLAYGROUND["en"], "en", headers=ISOLATION_HEADERS)
    try:
        took = stop_keeps_variables(cp)
        assert cp.guard.foreign == []
        print(f"\n[isolated] Stop -> KeyboardInterrupt: {took:.2f} s")
    finally:
        cp.page.context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served_site(built_site: Path) -> Iterator[str]:
    """The built site behind `python -m gradbook.serve` (what `make serve` runs); yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradbook.serve", str(built_site), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert "Serving" in proc.stdout.readline()
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gradbook_serve_isolates_the_page_and_stop_keeps_variables(browser, served_site) -> None:
    cp = open_page(browser, served_site + PLAYGROUND["en"], "en")
    try:
        stop_keeps_variables(cp)
        assert cp.kernel("spare") is None  # the interrupt needs no standby worker
        assert cp.guard.foreign == [] and cp.errors == []
    finally:
        cp.page.context.close()


@pytest.mark.parametrize(
    "path",
    ["", "zh/", "chapters/02_activations/", "source/02_activations/", "playground/"],
)
def test_pages_load_fully_under_coep(browser, served_site: str, path: str) -> None:
    """require-corp blocks any subresource that is not same-origin: nothing may fail."""
    context = new_visit(browser)
    try:
        page = context.new_page()
        failed: list[str] = []
        blocked: list[str] = []
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))

        def on_response(response) -> None:
            if response.status >= 400:
                failed.append(f"{response.status} {response.url}")

        def on_console(msg) -> None:
            if msg.type == "error":
                blocked.append(msg.text)

        page.on("response", on_response)
        page.on("console", on_console)
        page.goto(served_site + path, wait_until="load")
        assert page.evaluate("() => crossOriginIsolated") is True
        # Figures load lazily: ask for every one (as scrolling would), then wait for them all.
        page.evaluate("() => document.querySelectorAll('img').forEach(i => (i.loading = 'eager'))")
        page.wait_for_load_state("networkidle")  # figures decoded, the search worker's index in
        page.wait_for_function("() => [...document.images].every(i => i.complete)")
        broken = page.evaluate(
            "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.src)"
        )
        assert broken == [] and failed == [] and blocked == [], (broken, failed, blocked)
    finally:
        context.close()


def test_missing_gradbook_lite_is_reported(browser, site_server: str) -> None:
    cp = open_page(browser, site_server + PLAYGROUND["en"], "en", block="**/gradbook_lite-*.whl")
    try:
        assert cp.run(0) == "error"
        err = cp.stderr(0)
        assert "Python could not start" in err and "gradbook-lite" in err
        assert cp.kernel("state") == "failed"
        assert cp.guard.foreign == []
    finally:
        cp.page.context.close()


def chapter_pages_with_cells() -> list[tuple[str, str]]:
    """Each chapter with cells, in the language conftest.chromium_language gives it."""
    pages = []
    for md in sorted((REPO / "docs" / "en" / "chapters").glob("*.md")):
        lang = chromium_language(md.stem)
        page = REPO / "docs" / lang / "chapters" / md.name
        if "```pycell" in page.read_text(encoding="utf-8"):
            pages.append((lang, f"{'zh/' if lang == 'zh' else ''}chapters/{md.stem}/"))
    return pages


@pytest.mark.parametrize(
    ("lang", "path"), chapter_pages_with_cells() or [pytest.param("en", "", marks=pytest.mark.skip)]
)
def test_chapter_cells_run(browser, site_server: str, lang: str, path: str) -> None:
    """Every cell of every chapter runs without an error, in order, offline in Chromium, on one
    language's page (the other's runs in Pyodide under node: tests/test_lite_pyodide.py)."""
    cp = open_page(browser, site_server + path, lang)
    try:
        assert cp.count() >= 1
        assert cp.run(cp.count() - 1, timeout=240_000) == "done"  # runs all earlier cells first
        for index in range(cp.count()):
            assert cp.state(index) == "done", (index, cp.stderr(index))
        assert cp.guard.foreign == [] and cp.errors == []
    finally:
        cp.page.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reader_switches_chapter_02_from_sigmoid_to_relu(browser, site_server: str, lang) -> None:
    """The issue's scenario: edit `activation = "sigmoid"` to "relu", run, see the ReLU chart."""
    path = {"en": "chapters/02_activations/", "zh": "zh/chapters/02_activations/"}[lang]
    cp = open_page(browser, site_server + path, lang)
    try:
        code = cp.code(0)
        assert 'activation = "sigmoid"' in code
        assert cp.run(0, code.replace('activation = "sigmoid"', 'activation = "relu"')) == "done"
        printed = {"en": "relu: layer 1 / layer 10 = ", "zh": "relu：第 1 层 / 第 10 层 = "}[lang]
        assert printed in cp.output(0)
        chart = cp.cell(0).locator(".pycell-chart")
        assert chart.get_attribute("data-kind") == "line"
        assert chart.locator(".u-legend .u-series .u-label").all_inner_texts()[1:] == ["relu"]
        assert cp.guard.foreign == [] and cp.errors == []
    finally:
        cp.page.context.close()


JS_FETCHED_INDEX = """() => performance.getEntriesByType("resource")
    .some((entry) => entry.name.includes("/search/search_index.json"))"""


def at_page(address: str) -> Callable[[str], bool]:
    """Whether a URL is `address`, whatever #heading Material's navigation.tracking added to it
    (it rewrites the address as the page scrolls: a same-document navigation to Playwright)."""
    return lambda url: url.split("#")[0] == address


def open_plain(browser, url: str) -> tuple[object, Guard, list[str]]:
    """A page without cells to wait for: (page, guard, page errors)."""
    context = new_visit(browser)
    guard = Guard()
    context.route("**/*", guard.route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(url, wait_until="load")
    return page, guard, errors


@pytest.mark.parametrize(
    ("start", "lang", "other"),
    [
        ("chapters/03_initialization/", "zh", "zh/chapters/03_initialization/"),
        ("zh/chapters/03_initialization/", "en", "chapters/03_initialization/"),
        ("source/02_activations/", "zh", "zh/source/02_activations/"),
        ("zh/source/02_activations/", "en", "source/02_activations/"),
    ],
)
def test_language_switcher_lands_on_the_same_page(
    browser, site_server: str, start: str, lang: str, other: str
) -> None:
    page, guard, errors = open_plain(browser, site_server + start)
    try:
        page.locator(".md-header__option .md-select").hover()
        with page.expect_navigation(url=at_page(site_server + other)):
            page.locator(f'.md-select__link[hreflang="{lang}"]').click()
        assert at_page(site_server + other)(page.url)
        assert page.evaluate("document.documentElement.lang") == lang
        assert guard.foreign == [] and errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_math_is_typeset_by_the_sites_katex(browser, site_server: str, lang: str) -> None:
    prefix = "zh/" if lang == "zh" else ""
    for path in (f"{prefix}chapters/03_initialization/", f"{prefix}source/02_activations/"):
        page, guard, errors = open_plain(browser, site_server + path)
        try:
            page.wait_for_function("() => document.querySelectorAll('.katex').length > 0")
            assert page.locator(".katex-error").count() == 0, path
            assert guard.foreign == [] and errors == [], path
        finally:
            page.context.close()


@pytest.mark.parametrize(
    ("lang", "query"), [("en", "vanishing"), ("zh", "梯度消失"), ("zh", "梯度爆炸")]
)
def test_search_finds_the_term_in_the_page_language(
    browser, site_server: str, lang: str, query: str
) -> None:
    """And the page fetches Material's search index only when the reader goes to search
    (web/site/search-on-demand.js), not with the page."""
    root = site_server + ("zh/" if lang == "zh" else "")
    page, guard, errors = open_plain(browser, root)
    fetched_index = lambda: page.evaluate(JS_FETCHED_INDEX)  # noqa: E731
    try:
        page.wait_for_load_state("networkidle")
        assert not fetched_index(), "the page fetched the search index before any search"
        box = page.locator("input.md-search__input")
        box.click()
        results = page.locator(".md-search-result__item a")
        # Material queries on key events. Chinese arrives from an input method as inserted text and
        # the key that commits it; the test types the text and then presses End like that key. A
        # query sent before the worker has its index is dropped, so the reader (and the test)
        # types it again, for up to a minute on a busy machine.
        deadline = time.monotonic() + 60
        while results.count() == 0 and time.monotonic() < deadline:
            box.fill(query)
            box.press("End")
            page.wait_for_timeout(1_000)
        results.first.wait_for(timeout=5_000)
        assert fetched_index()
        hrefs = results.evaluate_all("links => links.map(a => a.href)")
        assert hrefs and all(h.startswith(root) for h in hrefs), hrefs
        if lang == "en":
            assert not any(h.startswith(site_server + "zh/") for h in hrefs), hrefs
        with page.expect_navigation():
            results.first.click()
        assert page.url.startswith(root) and guard.foreign == [] and errors == []
    finally:
        page.context.close()
