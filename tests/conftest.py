"""Shared fixtures: one real `mkdocs build` per test session, and a localhost server for it.

``built_site`` (Path) is the built site; ``site_server`` (str) is its base URL, ending in ``/``.
Both are session-scoped: the site tests and the browser tests read the same build. ``browser`` is
Debian's Chromium driven by Playwright, one per test module.

`make test` runs the suite on every core (pytest-xdist, `--dist loadfile`): each test module stays
on one worker, so its module fixtures (a browser, a reader's venv) are made once. The two costly
session fixtures, the built site and the quick book, are made once per run whatever the number of
workers: the first worker to need one builds it in the run's shared temporary folder under a file
lock, the others wait for it and read the same files (`built_once`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from bench.browser import CHROMIUM, CHROMIUM_ARGS  # one Chromium launch, shared with the bench
from gradbook.serve import make_server

REPO = Path(__file__).resolve().parents[1]
# `make test` runs 4 workers on 2 cores: a torch or BLAS pool of one thread per core in each worker
# (and in the processes they start) would put 8 threads on 2 cores, and OpenMP threads spin while
# they wait. One thread each, as the chapters run (their toml's `threads`, set by Chapter.start).
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
BUILD_TIMEOUT_S = 600  # a hung build fails the session instead of waiting out CI


def new_visit(browser, service_workers: str = "block", **options):
    """A fresh browser context, as a reader's first visit, with the service worker blocked.

    Without it, every context's first visit saves the whole book for offline in the background
    (offline.js: about 23 MB, Pyodide included, a few hundred requests through the test's route),
    which is tests/test_offline.py's subject and elsewhere only takes the CPU the test is timing.
    tests/test_navigation.py visits with it, as a reader's browser does.
    """
    return browser.new_context(service_workers=service_workers, **options)


def chromium_language(chapter: str) -> str:
    """The language whose page runs a chapter's cells in Chromium (tests/test_browser.py); the other
    language's page runs them in Pyodide under node (tests/test_lite_pyodide.py).

    So each chapter page's cells run in Pyodide once, and both languages' front ends are driven:
    the two languages' cells are the same code but for comments and strings (tests/test_cells_run.py
    compares them and runs the English ones on CPython too). Alternate by chapter number: 01
    English, 02 Chinese...
    """
    return "en" if int(chapter[:2]) % 2 else "zh"


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """`build(out)` once per test run, shared by every xdist worker; returns out.

    The run's shared folder is the parent of each worker's base temp folder (pytest-xdist's
    documented recipe). A build that fails leaves no mark, so every test that needs it fails.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out, done = root / name, root / f"{name}.done"
    with FileLock(root / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            build(out)
            done.touch()
    return out


def build_site(out: Path) -> float:
    """Build both languages with the real `python -m gradbook.pages` into out; return seconds."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "gradbook.pages", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        pytest.fail(f"the site build failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per run from the working tree into a temporary directory."""

    def build(out: Path) -> None:
        seconds = build_site(out)
        (out.parent / "build_seconds.txt").write_text(f"{seconds:.2f}\n")
        print(f"\nmkdocs build took {seconds:.1f} s", file=sys.stderr)

    return built_once(tmp_path_factory, "site", build)


@pytest.fixture(scope="session")
def site_server(built_site: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 (a free port) for the session; yields the base URL."""
    # Not cross-origin isolated, as on a plain static host: Stop must work without interrupts.
    server = make_server(built_site, "127.0.0.1", 0, isolated=False, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium (make browser-deps); skipped where it is missing, except on CI."""
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is missing (make browser-deps)"
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the browser tests")
        pytest.skip(missing)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def quick_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every chapter run once per test run in quick mode through the real runner, into a scratch
    directory.

    Chapter tests share this one build (same code path as `make figures`, fewer steps); the
    committed figures/ and its manifest are never touched.
    """

    def build(out: Path) -> None:
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(
            [sys.executable, "-m", "gradbook.build", "--quick", "--force", "--out", str(out)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.fail(f"quick build of the book failed:\n{proc.stdout}\n{proc.stderr}")

    return built_once(tmp_path_factory, "quick-book", build)
