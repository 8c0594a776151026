"""Cells in a real Chromium on localhost: Run to first output (cold and warm cache, and on a second
page reached through the site's navigation), Stop to ready, and the compute time of each chapter's
cells in Pyodide against CPython.

Pages are driven through `window.gradbookCells` (the cells' own objects: their editor, buttons and
output), so a click here is the click a reader makes. Times are taken inside the page with
`performance.now()`, from the click to the moment the output node changes; bytes are counted by
the local server, so a browser-cache hit costs nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

from bench import cells, targets
from bench.measure import Measure, megabytes
from bench.scratch import REPO
from bench.server import Served, serve
from bench.site import chapter_pages, gzipped, mkdocs_build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 120_000
MIN_COMPARABLE_S = 0.05  # CPython time below which a Pyodide/CPython ratio gets no target
FIRST_OUTPUT_CODE = 'print("first output")'
SPIN_CODE = "while True:\n    pass"
READY_CODE = 'print("ready again")'

# In the page: seconds since the cells' worker was requested (its script's fetch), 0 if not yet:
# how much of Python's start-up was done before the click.
JS_HEAD_START = """
() => {
  const entry = performance.getEntriesByType("resource")
    .find((r) => r.name.endsWith("/cells/worker.js"));
  return entry ? (performance.now() - entry.startTime) / 1000 : 0;
}
"""

# In the page: put `code` into cell i, click Run, resolve with ms until its output shows `expect`.
JS_RUN_TO_OUTPUT = """
async ([i, code, expect, timeoutMs]) => {
  const cell = window.gradbookCells.cells[i];
  const view = cell.editor;
  view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: code}});
  let t0 = 0;
  return await new Promise((resolve, reject) => {
    const check = () => {
      if (cell.output.textContent.includes(expect)) {
        observer.disconnect(); clearTimeout(timer); resolve(performance.now() - t0);
      } else if (cell.root.dataset.state === "error") {
        observer.disconnect(); clearTimeout(timer);
        reject(new Error("cell failed: " + cell.output.textContent.slice(-2000)));
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(cell.root, {childList: true, subtree: true, characterData: true, attributes: true});
    const timer = setTimeout(() => {
      observer.disconnect();
      reject(new Error(`no output in ${timeoutMs} ms; state ${cell.root.dataset.state}: ` +
                       cell.status.textContent + " " + cell.output.textContent.slice(-500)));
    }, timeoutMs);
    t0 = performance.now();
    cell.runButton.click();
  });
}
"""

# In the page: run an endless loop in cell i, click Stop once it runs, then Run `ready` code as soon
# as the button allows; resolve with ms from Stop to the new run's output (and how long the spare
# worker still needed before the loop could start).
JS_STOP_TO_READY = """
async ([i, spin, ready, expect, timeoutMs]) => {
  const cell = window.gradbookCells.cells[i];
  const view = cell.editor;
  const setCode = (code) =>
    view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: code}});
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (pred, what) => {
    const end = performance.now() + timeoutMs;
    while (!pred()) {
      if (performance.now() > end) throw new Error("timed out waiting for " + what);
      await sleep(5);
    }
  };
  // Without cross-origin isolation Stop swaps in a spare worker that boots once the page is idle;
  // a reader who runs a loop and then stops it has given it that time, so wait for it here.
  const kernel = window.gradbookCells.kernel;
  const waitedFrom = performance.now();
  if ("spare" in kernel && !globalThis.crossOriginIsolated) {
    await until(() => (kernel.spare && kernel.spare.state === "ready") || kernel.spareFailed,
                "the spare worker");
  }
  const spareWait = performance.now() - waitedFrom;
  setCode(spin);
  cell.runButton.click();
  await until(() => cell.root.dataset.state === "running", "the loop to start");
  await sleep(300);
  setCode(ready);
  const t0 = performance.now();
  cell.stopButton.click();
  await until(() => !cell.runButton.disabled, "Run to be enabled");
  cell.runButton.click();
  await until(() => cell.output.textContent.includes(expect), "output after Stop");
  return {ms: performance.now() - t0, spareWait};
}
"""

# In the page: run code in cell i to the end; resolve with its state and output text.
JS_RUN_TO_END = """
async ([i, code, timeoutMs]) => {
  const cell = window.gradbookCells.cells[i];
  const view = cell.editor;
  view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: code}});
  cell.runButton.click();
  const end = performance.now() + timeoutMs;
  await new Promise((r) => setTimeout(r, 20));
  while (cell.runButton.disabled) {
    if (performance.now() > end) throw new Error("cell did not finish in time");
    await new Promise((r) => setTimeout(r, 20));
  }
  return {state: cell.root.dataset.state, text: cell.output.textContent};
}
"""


def timed_cell_code(sources: list[str]) -> str:
    """A page's cells as one piece of code to run in a page's cell (`bench.cells.script`): in order
    in one fresh namespace, timed inside Python with perf_counter, with the same loop that
    `run_on_cpython` runs. A cell that raises (some show an error on purpose) does not stop the
    ones after it."""
    return cells.script(sources, name="bench")


def elapsed(text: str) -> float:
    """Seconds the cells took, read from the output of `timed_cell_code`."""
    return cells.parse(text)["seconds"]


def run_on_cpython(sources: list[str]) -> float:
    """Seconds of the cells in this interpreter (gradbook.lite imported from the work tree)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return cells.run_cells(sources, name="bench", keep_going=True).seconds


@contextmanager
def browsers() -> Iterator[Callable[[], contextlib.AbstractContextManager]]:
    """Yield a factory of fresh Chromium profiles (the Debian build, headless).

    Each profile is a new user-data directory with its own disk cache, like a reader's first visit;
    reloading within one profile is a return visit. (An incognito context would keep only a small
    in-memory cache, which drops Pyodide's 9 MB wasm file.) `service_workers="block"` gives a
    browser that cannot register the book's service worker, so nothing is saved for offline.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:

        @contextmanager
        def profile(service_workers: str = "allow") -> Iterator:
            with tempfile.TemporaryDirectory(prefix="gradbook-bench-chromium-") as user_dir:
                context = pw.chromium.launch_persistent_context(
                    user_dir,
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS,
                    headless=True,
                    service_workers=service_workers,
                )
                try:
                    yield context
                finally:
                    context.close()

        yield profile


def open_cells(page, url: str) -> int:
    """Load `url` and wait for its live cells; return how many there are."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function("window.gradbookCells && window.gradbookCells.cells.length > 0")
    return page.evaluate("window.gradbookCells.cells.length")


def _has_cells(page: Path) -> bool:
    return 'class="pycell' in page.read_text(encoding="utf-8", errors="replace")


def pages_with_cells(site_dir: Path) -> dict[str, str]:
    """Slug -> site-relative URL of each English chapter page that has cells; if no chapter has
    any yet, the other English pages with cells (the playground)."""
    url = lambda page: page.parent.relative_to(site_dir).as_posix() + "/"  # noqa: E731
    out = {
        slug: url(by_lang["en"])
        for slug, by_lang in chapter_pages(site_dir).items()
        if "en" in by_lang and _has_cells(by_lang["en"])
    }
    if not out:
        for page in sorted(site_dir.glob("*/index.html")):
            if _has_cells(page):
                out[page.parent.name] = url(page)
    return out


def _split_bytes(sent: list[tuple[str, int]]) -> tuple[int, int]:
    """(bytes under /pyodide/, other bytes)."""
    pyo = sum(n for path, n in sent if "/pyodide/" in path)
    return pyo, sum(n for _, n in sent) - pyo


def startup(profile, base: str, served: Served, url: str, reps: int) -> list[Measure]:
    """Cold and warm Run-to-first-output, Stop-to-ready and bytes, `reps` fresh profiles.

    The profiles block the book's service worker: its first-visit save of the whole language
    (measured on its own, `browser.bytes.offline`) would still be downloading during the reload
    and count as the warm visit's bytes. The save waits until Python has started (offline.js), so
    it does not touch the cold run either way.
    """
    cold, warm, stop, pyodide_bytes, page_bytes, warm_bytes = [], [], [], [], [], []
    spare_wait: list[float] = []  # seconds the spare worker still needed after the warm run
    cold_timings: list = []  # the worker's own startup timings, when it reports them
    head_start: dict[str, list[float]] = {"cold": [], "warm": []}  # boot time before the click
    timings: list = []
    for _ in range(reps):
        with profile(service_workers="block") as context:
            page = context.pages[0] if context.pages else context.new_page()
            mark = served.mark()
            open_cells(page, base + url)
            head_start["cold"].append(page.evaluate(JS_HEAD_START))
            ms = page.evaluate(JS_RUN_TO_OUTPUT, [0, FIRST_OUTPUT_CODE, "first output", TIMEOUT_MS])
            cold.append(ms / 1000)
            cold_timings.append(page.evaluate("window.gradbookCells.kernel.timings || null"))
            pyo, other = _split_bytes(served.since(mark))
            pyodide_bytes.append(megabytes(pyo))
            page_bytes.append(megabytes(other))

            mark = served.mark()
            page.reload(wait_until="domcontentloaded")
            page.wait_for_function("window.gradbookCells && window.gradbookCells.cells.length > 0")
            head_start["warm"].append(page.evaluate(JS_HEAD_START))
            ms = page.evaluate(JS_RUN_TO_OUTPUT, [0, FIRST_OUTPUT_CODE, "first output", TIMEOUT_MS])
            warm.append(ms / 1000)
            warm_bytes.append(megabytes(sum(_split_bytes(served.since(mark)))))

            timings.append(page.evaluate("window.gradbookCells.kernel.timings || null"))
            done = page.evaluate(
                JS_STOP_TO_READY, [0, SPIN_CODE, READY_CODE, "ready again", TIMEOUT_MS]
            )
            stop.append(done["ms"] / 1000)
            spare_wait.append(done["spareWait"] / 1000)
    where = url.strip("/")
    return [
        Measure(
            "browser.first_output.cold",
            "Run -> first output, cold cache",
            "s",
            cold,
            targets.FIRST_OUTPUT_COLD_S,
            note=where,
            extra={
                "worker_timings_cold": cold_timings,
                "worker_timings_warm": timings,
                "boot_head_start_s": head_start,
            },
        ),
        Measure(
            "browser.first_output.warm",
            "Run -> first output, warm cache (reload)",
            "s",
            warm,
            targets.FIRST_OUTPUT_WARM_S,
        ),
        Measure(
            "browser.stop_to_ready",
            "Stop on `while True: pass` -> a new Run prints",
            "s",
            stop,
            targets.STOP_TO_READY_S,
            note="spare worker ready" if any(w > 0 for w in spare_wait) else "",
            extra={"spare_wait_s": spare_wait},
        ),
        Measure(
            "browser.bytes.pyodide", "Pyodide downloaded by the first Run", "MB", pyodide_bytes
        ),
        Measure(
            "browser.bytes.page",
            "page + cells front end downloaded (cold)",
            "MB",
            page_bytes,
            note="network, excl. Pyodide",
        ),
        Measure("browser.bytes.warm", "downloaded again on reload (warm)", "MB", warm_bytes),
    ]


# In the page: Python is ready (the cells' kernel); mark the window and the kernel, so the next page
# can tell whether it kept them (instant navigation) or was loaded afresh.
JS_MARK = """
() => {
  window.__benchMark = true;
  window.gradbookCells.kernel.__benchMark = true;
  for (const cell of window.gradbookCells.cells) cell.root.dataset.benchOld = "1";
}
"""
# The cells of the page now shown: not the marked ones (with instant navigation the URL changes at
# the click, before the new page is in).
JS_NEW_CELLS = """
() => window.gradbookCells && window.gradbookCells.cells.length > 0 &&
      window.gradbookCells.cells[0].root.isConnected &&
      !window.gradbookCells.cells[0].root.dataset.benchOld
"""
JS_KEPT = """
() => ({window: window.__benchMark === true,
        kernel: window.gradbookCells.kernel.__benchMark === true,
        state: window.gradbookCells.kernel.state})
"""


@contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build_for(base: str, out: Path, repo: Path = REPO) -> None:
    """Build the site for the address it will be served on (GRADBOOK_SITE_URL, as a deployer
    sets it): Material's instant navigation matches links against the sitemap, port included."""
    with _env(GRADBOOK_SITE_URL=base, GRADBOOK_SITE_URL_ZH=base + "zh/"):
        mkdocs_build(out, repo)


def next_page(profile, reps: int, repo: Path = REPO) -> list[Measure]:
    """First Run on a second chapter page reached by clicking the site's navigation, in the same
    visit: first Run on chapter A (Python ready), click chapter B in the nav, Run. Built and served
    for one port, so instant navigation can keep the page's JavaScript (and its worker)."""
    runs, sent, kept = [], [], []
    with tempfile.TemporaryDirectory(prefix="gradbook-bench-nav-") as tmp:
        out = Path(tmp)
        with serve(out) as (base, served):
            build_for(base, out, repo)
            pages = list(pages_with_cells(out).values())
            if len(pages) < 2:
                raise RuntimeError("next_page needs two chapter pages with cells")
            first, second = pages[0], pages[1]
            for _ in range(reps):
                with profile() as context:
                    page = context.pages[0] if context.pages else context.new_page()
                    open_cells(page, base + first)
                    page.evaluate(
                        JS_RUN_TO_OUTPUT, [0, FIRST_OUTPUT_CODE, "first output", TIMEOUT_MS]
                    )
                    page.evaluate(JS_MARK)
                    mark = served.mark()
                    page.locator(
                        f'.md-nav a.md-nav__link[href$="{second}"] >> visible=true'
                    ).first.click()
                    page.wait_for_url(base + second)
                    page.wait_for_function(JS_NEW_CELLS)
                    kept.append(page.evaluate(JS_KEPT))
                    ms = page.evaluate(
                        JS_RUN_TO_OUTPUT, [0, FIRST_OUTPUT_CODE, "first output", TIMEOUT_MS]
                    )
                    runs.append(ms / 1000)
                    sent.append(served.since(mark))
    reused = all(k["kernel"] for k in kept)
    how = "instant navigation, Python reused" if reused else "full page load, Python restarted"
    pyo = [megabytes(_split_bytes(s)[0]) for s in sent]
    return [
        Measure(
            "browser.first_output.next_page",
            "Run -> first output on a second page reached by the nav",
            "s",
            runs,
            targets.FIRST_OUTPUT_NEXT_PAGE_S,
            note=f"{first.strip('/')} -> {second.strip('/')}, {how}",
            extra={"kept": kept, "pyodide_mb_after_nav": pyo},
        ),
        Measure(
            "browser.bytes.next_page",
            "  downloaded by that navigation and Run",
            "MB",
            [megabytes(sum(_split_bytes(s))) for s in sent],
            note=f"Pyodide {max(pyo):.2f} MB of it",
        ),
    ]


def stop_when_isolated(profile, base: str, url: str, reps: int) -> list[Measure]:
    """Stop-to-ready on a cross-origin-isolated page, where Stop interrupts Python in place."""
    with profile() as context:
        page = context.pages[0] if context.pages else context.new_page()
        open_cells(page, base + url)
        if not page.evaluate("window.crossOriginIsolated"):
            raise RuntimeError("the page is not cross-origin isolated despite COOP/COEP")
        page.evaluate(JS_RUN_TO_OUTPUT, [0, FIRST_OUTPUT_CODE, "first output", TIMEOUT_MS])
        runs = [
            page.evaluate(JS_STOP_TO_READY, [0, SPIN_CODE, READY_CODE, "ready again", TIMEOUT_MS])[
                "ms"
            ]
            / 1000
            for _ in range(reps)
        ]
    return [
        Measure(
            "browser.stop_to_ready.isolated",
            "  the same with COOP/COEP headers (interrupt, no restart)",
            "s",
            runs,
        )
    ]


def _site_file(site_dir: Path, path: str) -> Path:
    target = site_dir / unquote(path).lstrip("/")
    return target / "index.html" if target.is_dir() else target


def _wait_for_quiet(served: Served, mark: int, quiet_s: float = 1.0, limit_s: float = 20.0) -> None:
    """Until no request outside Pyodide has reached the server for `quiet_s` seconds."""
    count = lambda: sum("/pyodide/" not in p for p, _ in served.since(mark))  # noqa: E731
    seen, last_change, start = count(), time.monotonic(), time.monotonic()
    while time.monotonic() - last_change < quiet_s and time.monotonic() - start < limit_s:
        time.sleep(0.1)
        now = count()
        if now != seen:
            seen, last_change = now, time.monotonic()


# The Chinese web font (web/subset_font.py): its CJK unicode-range comes last in the font stacks, so
# only a browser without a system CJK font fetches it. Most readers' systems have one (Windows,
# macOS, iOS, Android); this machine's Chromium has none and always fetches it. The page target
# counts what every reader downloads; the font is reported beside it, not hidden.
WEB_FONT_DIR = "/assets/web/fonts/"
# The offline copy (offline.js, sw.js): a first visit saves its language's whole book in the
# background once the page is idle (not under Save-Data). That is not what the page weighs; the
# pages are weighed in a browser without the service worker, and the copy is reported on its own.
OFFLINE_MANIFESTS = {"en": "offline.json", "zh": "zh/offline.json"}


def offline_copy(site_dir: Path) -> list[Measure]:
    """What the first visit's background save downloads per language: the files offline.json lists."""
    sizes = {}
    for lang, name in OFFLINE_MANIFESTS.items():
        manifest = site_dir / name
        if manifest.is_file():
            files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
            sizes[lang] = sum(f["size"] for f in files)
    if not sizes:
        return []
    worst = max(sizes, key=sizes.get)
    return [
        Measure(
            "browser.bytes.offline",
            "  the book saved for offline by a first visit, in the background",
            "MB",
            [megabytes(sizes[worst])],
            note=f"{worst}, Pyodide included (offline.json); not in the page figures above",
            extra={"bytes": sizes},
        )
    ]


def page_weights(
    profile, base: str, served: Served, site_dir: Path, slugs: list[str] | None = None
) -> list[Measure]:
    """What each chapter page makes a first-time visitor download before any Run: HTML, CSS, JS,
    fonts, the figures near the screen (the others are lazy), the search index; Pyodide excluded,
    and the Chinese web font (WEB_FONT_DIR) and the offline copy (OFFLINE_MANIFESTS) counted
    apart. Worst language per chapter. Also counts
    every request that went to another host (there must be none). `slugs`: only these chapters."""
    out = []
    third_party: list[str] = []
    web_font: list[float] = []
    for slug, by_lang in chapter_pages(site_dir).items():
        if slugs and slug not in slugs:
            continue
        weights: dict[str, dict] = {}
        for lang, index in by_lang.items():
            with profile(service_workers="block") as context:
                context.on(
                    "request",
                    lambda r: None if r.url.startswith(base) else third_party.append(r.url),
                )
                page = context.pages[0] if context.pages else context.new_page()
                mark = served.mark()
                page.goto(base + index.parent.relative_to(site_dir).as_posix() + "/")
                _wait_for_quiet(served, mark)
                sent = [(p, n) for p, n in served.since(mark) if "/pyodide/" not in p]
            font = sum(n for p, n in sent if WEB_FONT_DIR in p)
            sent = [(p, n) for p, n in sent if WEB_FONT_DIR not in p]
            files = {_site_file(site_dir, p) for p, _ in sent}
            weights[lang] = {
                "bytes": sum(n for _, n in sent),
                "gzip_bytes": gzipped(f for f in files if f.is_file()),
                "web_font_bytes": font,
                "largest": sorted(sent, key=lambda x: -x[1])[:8],
            }
            web_font.append(megabytes(font))
        worst = max(weights, key=lambda lang: weights[lang]["bytes"])
        w = weights[worst]
        out.append(
            Measure(
                f"browser.page.{slug}",
                f"page {slug}, loaded without Pyodide",
                "MB",
                [megabytes(w["bytes"])],
                targets.PAGE_MB,
                note=f"{worst}, {megabytes(w['gzip_bytes']):.2f} MB gzipped",
                extra=weights,
            )
        )
    out.append(
        Measure(
            "browser.bytes.web_font",
            "  the Chinese web font, fetched only without a system CJK font",
            "MB",
            [max(web_font, default=0.0)],
            note="not in the page figures above; this machine has no CJK font",
        )
    )
    out += offline_copy(site_dir)
    out.append(
        Measure(
            "browser.third_party_requests",
            "requests to other hosts while loading them",
            "URLs",
            [float(len(third_party))],
            targets.THIRD_PARTY,
            extra={"urls": sorted(set(third_party))},
        )
    )
    return out


# In the page: until the spare worker (kernel.js) has booted, or cannot. It boots in the background
# once the cells' worker is ready, on the same cores as the cells.
JS_SPARE_SETTLED = """
async (timeoutMs) => {
  const kernel = window.gradbookCells.kernel;
  if (!("spare" in kernel) || globalThis.crossOriginIsolated) return;
  const end = performance.now() + timeoutMs;
  while (!((kernel.spare && kernel.spare.state === "ready") || kernel.spareFailed)) {
    if (performance.now() > end) throw new Error("timed out waiting for the spare worker");
    await new Promise((r) => setTimeout(r, 20));
  }
}
"""
# Seconds of Pyodide compute run before the timed pairs: V8 first runs Pyodide's WebAssembly as
# quickly compiled baseline code and recompiles the hot functions optimised as they run. Measured
# on 01_backprop (0.12 s a run once settled): 0.23 s, 0.18 s, then 0.11-0.12 s.
JIT_WARM_S = 1.0


def compute_ratio(
    profile, base: str, served: Served, url: str, slug: str, reps: int
) -> list[Measure]:
    """A page's cells, timed in Pyodide and in CPython, alternating: the ratio per pair, and the
    Pyodide time itself.

    This compares the engines, so it starts once the page has settled: the first visit's
    background work (the book saved for offline, the spare worker's boot) done and Pyodide's JIT
    warm (`JIT_WARM_S`). Right after a load the same cells took up to 5 times as long (01_backprop:
    0.54 s, then 0.33 s, 0.40 s, ..., 0.11 s); the first run after settling is in the note, and the
    reader's first Run is what browser.first_output.* measure."""
    with profile() as context:
        page = context.pages[0] if context.pages else context.new_page()
        mark = served.mark()
        open_cells(page, base + url)
        sources = page.evaluate("window.gradbookCells.cells.map((cell) => cell.original)")
        code = timed_cell_code(sources)

        def in_pyodide() -> float:
            done = page.evaluate(JS_RUN_TO_END, [0, code, TIMEOUT_MS])
            if done["state"] != "done":
                raise RuntimeError(
                    f"{slug} cells in Pyodide: {done['state']}\n{done['text'][-2000:]}"
                )
            return elapsed(done["text"])

        page.evaluate(JS_SPARE_SETTLED, TIMEOUT_MS)
        _wait_for_quiet(served, mark)
        first = warmed = in_pyodide()  # also the first imports, first-call costs
        while warmed < JIT_WARM_S:
            warmed += in_pyodide()
        run_on_cpython(sources)
        pyo, cpy = [], []
        for _ in range(reps):
            pyo.append(in_pyodide())
            cpy.append(run_on_cpython(sources))
    # A ratio of a few milliseconds measures fixed costs (compiling, posting a chart), not compute.
    too_short = statistics.median(cpy) < MIN_COMPARABLE_S
    return [
        Measure(
            f"browser.ratio.{slug}",
            f"{len(sources)} cells of {slug}: Pyodide / CPython",
            "x",
            [p / c for p, c in zip(pyo, cpy, strict=True)],
            None if too_short else targets.PYODIDE_OVER_CPYTHON,
            note=f"{statistics.median(pyo):.3f} s / {statistics.median(cpy):.3f} s"
            + f"; first run once settled {first:.3f} s"
            + (", too short to compare" if too_short else ""),
            extra={"pyodide_s": pyo, "cpython_s": cpy, "pyodide_first_s": first},
        ),
        Measure(
            f"browser.cells.{slug}",
            f"{len(sources)} cells of {slug} in Pyodide, in order",
            "s",
            pyo,
            targets.PAGE_CELLS_PYODIDE_S,
            note="compute time inside Python, what a reader waits for on a page's last cell",
        ),
    ]


def run(reps: int, site_dir: Path, slugs: list[str] | None = None) -> list[Measure]:
    """All browser measures against the built site in `site_dir` (`slugs`: only these chapters'
    pages are weighed and timed)."""
    pages = pages_with_cells(site_dir)
    if slugs:
        pages = {s: u for s, u in pages.items() if s in slugs}
    if not pages:
        raise RuntimeError(f"no chapter page with cells in {site_dir}")
    first_slug = next(iter(pages))
    with serve(site_dir) as (base, served), browsers() as profile:
        weights = page_weights(profile, base, served, site_dir, slugs)
        start = startup(profile, base, served, pages[first_slug], reps)
        nav = next_page(profile, reps)
        with serve(site_dir, isolated=True) as (isolated_base, _):
            isolated = stop_when_isolated(profile, isolated_base, pages[first_slug], reps)
        ratios = [
            m
            for slug, url in pages.items()
            for m in compute_ratio(profile, base, served, url, slug, reps)
        ]
    return start[:2] + nav[:1] + start[2:3] + isolated + start[3:] + nav[1:] + weights + ratios
