"""Instant navigation in a real Chromium against the built site, in both languages.

The site is built for the address it is served on (GRADBOOK_SITE_URL, as a deployer sets it:
Material's instant navigation only takes links its sitemap names, port included), then a reader
moves from chapter 01 to chapter 02 through the navigation. The page's JavaScript, and so the
Python worker, stays: the first Run on chapter 02 needs no new interpreter, yet sees nothing
chapter 01 defined. The new page's math is typeset, its cells are live (Stop and the standby
worker included), and the language switcher points at chapter 02 in the other language.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOAD_TIMEOUT_MS,
    CellPage,
    at_page,
    free_port,
    open_page,
)

from gradbook.serve import make_server

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 600
PREFIX = {"en": "", "zh": "zh/"}
OTHER = {"en": "zh", "zh": "en"}
CH01, CH02 = "chapters/01_backprop/", "chapters/02_activations/"

# The cells on the page now shown: not the ones marked before the click (the URL changes at the
# click, before the new page is in).
NEW_CELLS = """() => window.gradbookCells && window.gradbookCells.cells.length > 0
  && window.gradbookCells.cells[0].root.isConnected
  && !window.gradbookCells.cells[0].root.dataset.old"""
MARK = """() => {
  window.__sameWindow = true;
  window.gradbookCells.kernel.__sameKernel = true;
  for (const cell of window.gradbookCells.cells) cell.root.dataset.old = "1";
}"""


@pytest.fixture(scope="module")
def nav_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Pick a port, build both languages for it, serve the build there; yields the base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    out = tmp_path_factory.mktemp("nav-site")
    env = {**os.environ, "GRADBOOK_SITE_URL": base, "GRADBOOK_SITE_URL_ZH": base + "zh/"}
    proc = subprocess.run(
        [sys.executable, "-m", "gradbook.pages", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"the site build failed:\n{proc.stdout}\n{proc.stderr}")
    server = make_server(out, "127.0.0.1", port, isolated=False, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is missing (make browser-deps)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the browser tests")
        pytest.skip(missing)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=["en", "zh"])
def chapter_01(request, chromium, nav_site: str) -> Iterator[CellPage]:
    """Chapter 01 with Python ready and `from_page_one` defined by its first cell."""
    lang = request.param
    # With the service worker, as a reader's browser visits: it saves the book while we navigate.
    cp = open_page(chromium, nav_site + PREFIX[lang] + CH01, lang, service_workers="allow")
    cp.base = nav_site
    assert cp.run(0, "from_page_one = 42\nprint('page one', from_page_one)") == "done"
    assert "page one 42" in cp.output(0)
    yield cp
    assert cp.guard.foreign == [] and cp.errors == []
    cp.page.context.close()


def wait_for_page(cp: CellPage, path: str) -> None:
    """Until the address is `path` (site-relative; navigation.tracking may add a #heading)."""
    cp.page.wait_for_url(at_page(cp.base + path))


def follow_nav(cp: CellPage, path: str) -> None:
    """Click the site's navigation link to `path` (site-relative) and wait for its cells."""
    cp.page.evaluate(MARK)
    link = f'a.md-nav__link[href$="{path}"] >> visible=true'
    cp.page.locator(link).first.click()
    wait_for_page(cp, path)
    cp.page.wait_for_function(NEW_CELLS, timeout=LOAD_TIMEOUT_MS)


def test_next_page_reuses_python_in_a_fresh_namespace(chapter_01: CellPage) -> None:
    cp = chapter_01
    follow_nav(cp, PREFIX[cp.lang] + CH02)
    kept = cp.page.evaluate(
        "() => [window.__sameWindow, window.gradbookCells.kernel.__sameKernel,"
        " window.gradbookCells.kernel.state]"
    )
    assert kept == [True, True, "ready"], "instant navigation kept the page and its Python"
    original = cp.page.evaluate("() => window.gradbookCells.cells[0].original")
    assert "from_page_one" not in original
    assert cp.run(0) == "done", cp.output(0)  # the book's own first cell of chapter 02
    assert cp.run(-1, "print('from_page_one' in globals(), __name__)") == "done"
    assert cp.output(-1).strip() == "False __main__"
    # Back to chapter 01: its cells are live again, in a namespace of their own.
    cp.page.evaluate(MARK)
    cp.page.go_back()
    wait_for_page(cp, PREFIX[cp.lang] + CH01)
    cp.page.wait_for_function(NEW_CELLS, timeout=LOAD_TIMEOUT_MS)
    assert cp.page.evaluate("() => window.__sameWindow") is True
    assert cp.run(0, "print('from_page_one' in globals())") == "done"
    assert cp.output(0).strip() == "False"


def test_next_page_math_switcher_and_stop(chapter_01: CellPage) -> None:
    cp = chapter_01
    follow_nav(cp, PREFIX[cp.lang] + CH02)
    page = cp.page
    # Typeset by the site's KaTeX (each formula rendered, or marked as KaTeX's own parse error).
    page.wait_for_function(
        "() => [...document.querySelectorAll('.arithmatex')]"
        ".every((el) => el.querySelector('.katex, .katex-error'))"
    )
    assert page.locator(".arithmatex .katex").count() > 0
    other = OTHER[cp.lang]
    target = cp.base + PREFIX[other] + CH02
    switch = page.locator(f'.md-select__link[hreflang="{other}"]')
    assert switch.evaluate("(a) => a.href") == target
    # Stop without cross-origin isolation swaps in the standby worker, on the page navigated to.
    assert not page.evaluate("() => window.crossOriginIsolated")
    cp.page.wait_for_function(
        "() => { const k = window.gradbookCells.kernel; return k.spare && k.spare.state === 'ready'; }",
        timeout=LOAD_TIMEOUT_MS,
    )
    cp.set_code(-1, "while True:\n    pass")
    cp.click(-1, "run")
    cp.wait_state(-1, ("running",))
    cp.click(-1, "stop")
    assert cp.wait_state(-1, ("stopped",)) == "stopped"
    assert cp.run(-1, "print('after stop')") == "done"
    assert "after stop" in cp.output(-1)
    page.locator(".md-header__option .md-select").hover()
    with page.expect_navigation(url=at_page(target)):
        switch.click()
    assert page.evaluate("document.documentElement.lang") == other


def test_a_page_without_cells_in_between(chapter_01: CellPage) -> None:
    cp = chapter_01
    page = cp.page
    page.evaluate(MARK)
    glossary = PREFIX[cp.lang] + "glossary/"
    page.locator(f'a[href$="{glossary}"] >> visible=true').first.click()
    wait_for_page(cp, glossary)
    page.wait_for_function("() => window.gradbookCells === undefined")
    assert page.evaluate("() => window.__sameWindow") is True
    page.go_back()
    wait_for_page(cp, PREFIX[cp.lang] + CH01)
    page.wait_for_function(NEW_CELLS, timeout=LOAD_TIMEOUT_MS)
    assert cp.run(0, "print('from_page_one' in globals())") == "done"
    assert cp.output(0).strip() == "False"
