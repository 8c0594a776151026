"""The book offline after one visit (service worker, precache manifests), in a real Chromium.

The flow of the issue, in both languages: open the home page (no cells, so only the service
worker fetches Python), wait until the header says the book is saved, stop the server and cut
the network, open a chapter never visited, run its first cell and read its output; a page that
is not saved gets the offline page in its language. The Chinese run is served cross-origin
isolated (COOP/COEP), so pages from the cache must keep those headers. A second build of the
site replaces the first one's cache; instant navigation keeps the control. Each test has its own
server (its own origin, so its own service worker) and a fresh browser context.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_browser import LOCAL_HOSTS, CellPage

from gradbook.pages import offline
from gradbook.serve import make_server

REPO = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 600
PREFIX = {"en": "", "zh": "zh/"}
SAVE_TIMEOUT_MS = 180_000  # 25 MB from a local server on a busy 2-core machine
SAVED = {"en": "Available offline", "zh": "可离线阅读"}
OFFLINE_HEADING = {"en": "You are offline", "zh": "你现在处于离线状态"}
UNVISITED = "chapters/01_backprop/"
LABEL = ".gb-offline__label"
HEADER = re.compile(r"^self\.GRADBOOK_OFFLINE = (\{.*\});$", re.M)


def manifest_of(site: Path, lang: str) -> dict:
    return json.loads((site / PREFIX[lang] / offline.MANIFEST).read_text(encoding="utf-8"))


def worker_header(site: Path) -> dict:
    match = HEADER.match((site / offline.WORKER).read_text(encoding="utf-8"))
    assert match, "sw.js does not start with its GRADBOOK_OFFLINE line"
    return json.loads(match[1])


@pytest.mark.site
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_manifest_lists_every_page_and_figure_of_its_language(
    built_site: Path, lang: str
) -> None:
    root = built_site / PREFIX[lang]
    manifest = manifest_of(built_site, lang)
    files = {f["url"]: f for f in manifest["files"]}
    others = [built_site / "zh"] if lang == "en" else []
    pages = [
        offline.page_url(p.relative_to(root).as_posix())
        for p in root.rglob("index.html")
        if not any(p.is_relative_to(o) for o in others)
    ]
    assert len(pages) > 20 and set(pages) <= set(files), set(pages) - set(files)
    figures = [p.relative_to(root).as_posix() for p in (root / "figures").rglob("*.svg")]
    assert figures and all(f.endswith(f".{lang}.svg") for f in figures)
    assert set(figures) <= set(files)
    shared = "" if lang == "en" else "../"
    for needed in ("pyodide/pyodide.asm.wasm", "pyodide/python_stdlib.zip", "cells/worker.js"):
        assert f"{shared}assets/web/{needed}" in files
    assert any(re.fullmatch(rf"{shared}assets/web/pyodide/gradbook_lite-.*\.whl", u) for u in files)
    for url, entry in files.items():
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and not url.startswith("/"), url
        target = posixpath.normpath(posixpath.join(PREFIX[lang], url)) + (
            "/" if url.endswith("/") else ""
        )
        assert not target.startswith(".."), url  # inside the site
        if lang == "en":
            assert not target.startswith("zh/"), url  # nothing of the other language
        else:
            assert target.startswith(("zh/", "assets/web/")), url
        path = built_site / target
        path = path / "index.html" if url.endswith("/") else path
        data = path.read_bytes()
        assert entry["size"] == len(data) and entry["hash"] == hashlib.sha256(data).hexdigest(), url
    assert worker_header(built_site)["languages"][lang]["version"] == manifest["version"]


def test_the_version_follows_the_bytes_and_the_worker_names_every_language(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for rel, text in {
        "index.html": "home",
        "chapters/a/index.html": "a",
        "zh/index.html": "zh home",
        "assets/web/cells/cells.js": "cells",
        "assets/web/site/sw.js": "/* the worker */",
    }.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    alternates = [{"lang": "en", "link": "./"}, {"lang": "zh", "link": "zh/"}]
    shared = site / "assets/web"
    first = offline.write(site, "en", shared=shared, alternates=alternates)
    assert [f["url"] for f in first["files"]] == ["./", "assets/web/cells/cells.js", "chapters/a/"]
    zh = offline.write(site / "zh", "zh", shared=shared, alternates=[{"lang": "en", "link": "../"}])
    assert [f["url"] for f in zh["files"]] == ["../assets/web/cells/cells.js", "./"]
    header = worker_header(site)
    assert header["languages"] == {
        "en": {"root": "", "manifest": "offline.json", "version": first["version"]},
        "zh": {"root": "zh/", "manifest": "zh/offline.json", "version": zh["version"]},
    }
    assert (site / offline.WORKER).read_text(encoding="utf-8").endswith("/* the worker */")
    assert offline.write(site, "en", shared=shared, alternates=alternates) == first
    (site / "chapters/a/index.html").write_text("a, revised", encoding="utf-8")
    second = offline.write(site, "en", shared=shared, alternates=alternates)
    assert second["version"] != first["version"]
    assert worker_header(site)["version"] != header["version"]


def test_the_control_speaks_both_languages() -> None:
    """Every string of the control and the offline page exists in both languages."""
    text = (REPO / "web/src/offline-text.js").read_text(encoding="utf-8")
    en = text[text.index("  en: {") : text.index("  zh: {")]
    zh = text[text.index("  zh: {") : text.index("\n};")]
    keys = lambda block: re.findall(r"^    (\w+):", block, re.M)  # noqa: E731
    assert keys(en) == keys(zh) and len(keys(en)) > 10
    assert not re.search(r"[\u4e00-\u9fff],|,[\u4e00-\u9fff]", zh)  # ，beside Chinese


@contextmanager
def serving(root: Path, *, isolated: bool = False) -> Iterator[tuple[str, Callable[[], None]]]:
    """Serve root on a free port; yields the base URL and a function that cuts the server off."""
    server = make_server(root, "127.0.0.1", 0, isolated=isolated, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", stop
    finally:
        stop()


@contextmanager
def reader(browser) -> Iterator[tuple[object, list[str]]]:
    """A fresh browser context with service workers; yields a page and the hosts it asked."""
    context = browser.new_context(service_workers="allow")
    hosts: list[str] = []
    context.on("request", lambda request: hosts.append(urlsplit(request.url).hostname or ""))
    try:
        yield context.new_page(), hosts
    finally:
        context.close()


def wait_saved(page, lang: str) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.textContent === text",
        arg=[LABEL, SAVED[lang]],
        timeout=SAVE_TIMEOUT_MS,
    )


def cache_names(page) -> list[str]:
    return page.evaluate("() => caches.keys()")


def wait_caches(page, expected: list[str]) -> None:
    """Poll the page's cache names until they are expected (a promise: wait_for_function won't)."""
    for _ in range(SAVE_TIMEOUT_MS // 500):
        if cache_names(page) == expected:
            return
        page.wait_for_timeout(500)
    pytest.fail(f"the caches are {cache_names(page)}, not {expected}")


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "isolated"), [("en", False), ("zh", True)])
def test_after_one_visit_a_chapter_never_opened_runs_its_cell_offline(
    browser,
    built_site: Path,
    lang: str,
    isolated: bool,
) -> None:
    with serving(built_site, isolated=isolated) as (base, cut), reader(browser) as (page, hosts):
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(base + PREFIX[lang])
        button = page.locator(".gb-offline__button")
        assert button.count() == 1 and page.locator(".gb-offline [role=status]").count() == 1
        wait_saved(page, lang)
        assert page.locator(".gb-offline [role=status]").text_content() == SAVED[lang]
        assert cache_names(page) == [f"gradbook / {worker_header(built_site)['version']}"]

        cut()
        page.context.set_offline(True)
        page.goto(base + PREFIX[lang] + UNVISITED)
        assert page.evaluate("() => self.crossOriginIsolated") is isolated
        assert page.evaluate("document.documentElement.lang") == lang
        figure = page.locator("article img[src$='.svg']").first.get_attribute("src")
        assert figure.endswith(f".{lang}.svg")
        assert page.evaluate("async (src) => (await fetch(src)).ok", figure)
        page.wait_for_function("() => window.gradbookCells !== undefined")
        cells = CellPage(page=page, guard=None, lang=lang, timings={})
        assert cells.run(0) == "done", cells.stderr(0)
        assert cells.cell(0).locator(".pycell-chart, .pycell-text").count() > 0
        wait_saved(page, lang)  # the control on this page too

        page.goto(base + PREFIX[lang] + "no-such-page/")
        assert page.locator("h1").text_content() == OFFLINE_HEADING[lang]
        assert page.evaluate("document.documentElement.lang") == lang
    assert set(hosts) <= LOCAL_HOSTS, set(hosts) - LOCAL_HOSTS
    assert errors == []


@pytest.mark.browser
def test_a_new_build_replaces_the_old_cache(
    browser,
    built_site: Path,
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    with serving(site) as (base, cut), reader(browser) as (page, hosts):
        page.goto(base)
        wait_saved(page, "en")
        first = cache_names(page)
        assert first == [f"gradbook / {worker_header(site)['version']}"]

        # The second build knows its address, so its pages differ (and instant navigation is on).
        second = tmp_path / "second"
        env = {**os.environ, "GRADBOOK_SITE_URL": base, "GRADBOOK_SITE_URL_ZH": base + "zh/"}
        proc = subprocess.run(
            [sys.executable, "-m", "gradbook.pages", "--out", str(second)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        shutil.rmtree(site)
        shutil.copytree(second, site)
        new_cache = f"gradbook / {worker_header(site)['version']}"
        assert [new_cache] != first

        page.reload()  # the browser checks the worker on a navigation; update() makes sure
        page.evaluate("() => navigator.serviceWorker.getRegistration().then((r) => r.update())")
        wait_caches(page, [new_cache])  # the new worker activated, the old cache is gone
        page.reload()
        wait_saved(page, "en")
        assert base in (page.locator("link[rel=canonical]").get_attribute("href") or "")

        # Instant navigation swaps the page and keeps the header, and with it the control.
        page.evaluate(
            "() => { window.__sameWindow = true; window.__control = document.querySelector('.gb-offline'); }"
        )
        page.locator(f"a[href$='{UNVISITED}']:visible").first.click()
        page.wait_for_url(f"**/{UNVISITED}")
        page.wait_for_function("() => document.querySelector('.pycell')")
        assert page.evaluate("() => window.__sameWindow === true")
        assert page.evaluate("() => document.querySelector('.gb-offline') === window.__control")
        wait_saved(page, "en")

        cut()
        page.context.set_offline(True)
        page.goto(base + "chapters/02_activations/")
        assert base in (page.locator("link[rel=canonical]").get_attribute("href") or "")
    assert set(hosts) <= LOCAL_HOSTS


@pytest.mark.browser
def test_on_save_data_the_book_waits_for_the_button_which_the_keyboard_presses(
    browser, built_site: Path
) -> None:
    with serving(built_site) as (base, _), reader(browser) as (page, hosts):
        page.add_init_script(
            "Object.defineProperty(navigator, 'connection', { value: { saveData: true } })"
        )
        page.goto(base + "zh/")
        label = page.locator(LABEL)
        page.wait_for_function(
            "(sel) => document.querySelector(sel)?.textContent === '尚未保存供离线阅读'", arg=LABEL
        )
        # Past the moment the page would have started saving by itself (an idle callback).
        page.evaluate(
            "() => new Promise((ok) => requestIdleCallback(() => setTimeout(ok, 1000), { timeout: 6000 }))"
        )
        assert label.text_content() == "尚未保存供离线阅读"
        button = page.locator(".gb-offline__button")
        assert button.get_attribute("aria-disabled") == "false"
        assert "MB" in (button.get_attribute("title") or "")  # the size to save, before saving
        button.focus()
        page.keyboard.press("Enter")
        wait_saved(page, "zh")
        assert button.get_attribute("aria-disabled") == "true"
    assert set(hosts) <= LOCAL_HOSTS
