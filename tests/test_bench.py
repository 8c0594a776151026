"""Smoke tests of `make bench`: every measuring code path once, on tiny inputs, and the JSON shape.

Timing targets are reported by the bench, never asserted here: a test machine's speed is not ours.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import figures, probes, report, site
from bench import tests as suite
from bench.__main__ import parse_args
from bench.measure import Measure, Target
from bench.pageweight import page_weight

REPO = Path(__file__).resolve().parent.parent
FIXTURE_CHAPTER = REPO / "tests" / "fixtures" / "build_project" / "chapters_src" / "01_fine"
MEASURE_KEYS = {"key", "label", "unit", "median", "min", "max", "runs", "target", "met", "note"}


def check_measures(measures: list[Measure], reps: int) -> list[dict]:
    """Each measure serialises to the documented shape, with finite, ordered numbers."""
    out = [m.to_json() for m in measures]
    for m in out:
        assert set(m) >= MEASURE_KEYS, m
        assert len(m["runs"]) == reps
        assert all(math.isfinite(x) and x >= 0 for x in m["runs"]), m
        assert m["min"] <= m["median"] <= m["max"]
        assert m["met"] is None if m["target"] is None else isinstance(m["met"], bool)
    assert len({m["key"] for m in out}) == len(out), "keys must be unique"
    return out


def test_report_writes_dated_and_latest_json(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    measures = [
        Measure("a.time", "a time", "s", [1.0, 3.0, 2.0], Target(2.5)),
        Measure("a.size", "a size", "MB", [30.0], Target(25.0)),
        Measure("a.ratio", "a ratio", "x", [1.1]),
    ]
    doc = report.document(measures, 3, datetime(2026, 1, 2, tzinfo=UTC), report.environment())
    paths = report.write(doc, tmp_path)
    assert [p.name for p in paths] == ["results-2026-01-02.json", "latest.json"]
    saved = json.loads(paths[1].read_text(encoding="utf-8"))
    assert saved["date"] == "2026-01-02" and saved["reps"] == 3
    by_key = {m["key"]: m for m in saved["results"]}
    assert by_key["a.time"]["median"] == 2.0 and by_key["a.time"]["met"] is True
    assert by_key["a.size"]["met"] is False and by_key["a.ratio"]["met"] is None
    table = report.text_table(saved["results"])
    assert "NOT MET" in table and "2.00 s" in table and "1.10x" in table
    assert report.markdown_table(saved["results"]).count("\n") == 4


def test_cli_rejects_unknown_groups() -> None:
    assert parse_args(["--only", "site,browser", "--reps", "1"]).groups == ["site", "browser"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "sight"])


def make_tiny_repo(tmp_path: Path) -> Path:
    """A work tree with one tiny chapter (the build tests' 01_fine) and the real gradbook package."""
    repo = tmp_path / "repo"
    (repo / "chapters_src").mkdir(parents=True)
    for suffix in (".py", ".toml"):
        shutil.copy(FIXTURE_CHAPTER.with_suffix(suffix), repo / "chapters_src")
    shutil.copytree(
        REPO / "gradbook", repo / "gradbook", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return repo


@pytest.mark.slow
def test_figures_clean_noop_and_touched_builds(tmp_path: Path) -> None:
    repo = make_tiny_repo(tmp_path)
    before = sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts)
    out = check_measures(figures.run(1, quick=True, repo=repo), 1)
    keys = [m["key"] for m in out]
    assert keys == [
        "figures.clean.total",
        "figures.clean.cpu",
        "figures.clean.01_fine",
        "figures.noop",
        "figures.touched",
    ]
    after = sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts)
    assert after == before, "the bench must build in a scratch copy, never in the work tree"


def test_page_weight_follows_css_and_js_and_skips_pyodide(tmp_path: Path) -> None:
    s = tmp_path / "site"
    page = s / "chapters" / "01_x" / "index.html"
    page.parent.mkdir(parents=True)
    (s / "assets" / "pyodide").mkdir(parents=True)
    (s / "assets" / "pyodide" / "pyodide.asm.wasm").write_bytes(b"w" * 5000)
    (s / "assets" / "style.css").write_text("body{background:url('img/bg.png')}")
    (s / "assets" / "img").mkdir()
    (s / "assets" / "img" / "bg.png").write_bytes(b"p" * 300)
    (s / "assets" / "app.js").write_text('import {a} from "./lib.js";\nconst p = "../pyodide/";')
    (s / "assets" / "lib.js").write_text("export const a = 1;")
    (s / "zh" / "chapters" / "01_x").mkdir(parents=True)
    (s / "zh" / "chapters" / "01_x" / "index.html").write_text("<p>zh</p>")
    page.write_text(
        '<link rel="stylesheet" href="../../assets/style.css">'
        '<script type="module" src="../../assets/app.js"></script>'
        '<img src="fig.svg"><a href="../../other/">not loaded</a>'
        '<script src="../../assets/pyodide/pyodide.mjs"></script>'
    )
    (page.parent / "fig.svg").write_text("<svg/>")
    w = page_weight(page, s)
    names = sorted(p.name for p in w.files)
    assert names == ["app.js", "bg.png", "fig.svg", "index.html", "lib.js", "style.css"]
    assert w.external == []
    measures = check_measures(site.sizes(s), 1)
    by_key = {m["key"]: m for m in measures}
    assert set(by_key) == {
        "site.size",
        "site.pyodide_dir",
        "site.page_files",
        "site.third_party_urls",
    }
    assert by_key["site.page_files"]["median"] * 1024 * 1024 == pytest.approx(w.total)
    assert by_key["site.third_party_urls"]["median"] == 0 and by_key["site.third_party_urls"]["met"]
    assert by_key["site.pyodide_dir"]["median"] * 1024 * 1024 == 5000


def test_mkdocs_build_is_timed(tmp_path: Path) -> None:
    """Both projects of a tiny two-language book, built in order like the real one."""
    project = tmp_path / "proj"
    for lang in ("en", "zh"):
        (project / "docs" / lang).mkdir(parents=True)
        (project / "docs" / lang / "index.md").write_text(f"# Hello {lang}\n")
    (project / "mkdocs.yml").write_text("site_name: tiny\ntheme: mkdocs\ndocs_dir: docs/en\n")
    (project / "mkdocs.zh.yml").write_text("INHERIT: mkdocs.yml\ndocs_dir: docs/zh\n")
    m = site.time_build(1, tmp_path / "out", repo=project)
    check_measures([m], 1)
    assert "Hello en" in (tmp_path / "out" / "index.html").read_text()
    assert "Hello zh" in (tmp_path / "out" / "zh" / "index.html").read_text()


def test_probes_overhead_runs_all_variants() -> None:
    out = check_measures(probes.run(1, steps=3, batch=8, depth=2, width=8, tries=1), 1)
    assert [m["key"] for m in out] == [
        "probes.plain",
        "probes.fit",
        "probes.probed",
        "probes.fit_overhead",
        "probes.probe_overhead",
        "probes.overhead",
        "probes.overhead_every10",
    ]
    assert out[-2]["target"] == 1.10


def test_suite_is_timed_once_with_seconds_per_file(tmp_path: Path) -> None:
    """A tiny suite in place of `make test`: one passing file, one with a failure and a skip."""
    (tmp_path / "test_good.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    (tmp_path / "test_bad.py").write_text(
        "import pytest\n\ndef test_c():\n    assert False\n\n"
        "@pytest.mark.skip\ndef test_d():\n    pass\n"
    )
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    (m,) = check_measures(suite.run(command, cwd=tmp_path), 1)
    assert m["key"] == "tests.total" and m["target"] == 600.0
    assert m["extra"]["counts"] == {"tests": 4, "failures": 1, "errors": 0, "skipped": 1}
    assert set(m["extra"]["files_s"]) == {"test_good", "test_bad"}
    assert m["extra"]["returncode"] == 1 and "2 passed, 1 failed" in m["note"]
    assert m["extra"]["cpu_s"] > 0, "pytest's own CPU time is counted"


@pytest.mark.browser
@pytest.mark.slow
def test_browser_measures_on_the_built_site(built_site: Path) -> None:
    from bench import browser

    pages = browser.pages_with_cells(built_site)
    assert pages, "the built site has no page with cells"
    slug = next(iter(pages))
    out = check_measures(browser.run(1, built_site, slugs=[slug]), 1)
    by_key = {m["key"]: m for m in out}
    assert {
        "browser.first_output.cold",
        "browser.first_output.warm",
        "browser.stop_to_ready",
        "browser.bytes.pyodide",
        f"browser.ratio.{slug}",
    } <= set(by_key)
    assert by_key["browser.bytes.pyodide"]["median"] > 1, "a first Run downloads Pyodide"
    assert by_key["browser.bytes.warm"]["median"] < 0.5, "a reload is served from the cache"
    assert any(k.startswith("browser.page.") for k in by_key), "chapter pages are weighed"
    assert by_key["browser.third_party_requests"]["median"] == 0


def test_page_weight_counts_one_format_per_font_face(tmp_path: Path) -> None:
    s = tmp_path / "site"
    (s / "fonts").mkdir(parents=True)
    for name in ("a.woff2", "a.woff", "a.ttf", "icon.png"):
        (s / "fonts" / name).write_bytes(b"x" * 100)
    (s / "style.css").write_text(
        "@font-face{font-family:A;src:url(fonts/a.woff2) format('woff2'),"
        "url(fonts/a.woff) format('woff'),url(fonts/a.ttf)}\n.i{background:url(fonts/icon.png)}"
    )
    (s / "index.html").write_text('<link rel="stylesheet" href="style.css">')
    names = sorted(p.name for p in page_weight(s / "index.html", s).files)
    assert names == ["a.woff2", "icon.png", "index.html", "style.css"]


def test_update_block_replaces_only_the_marked_table(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    doc = report.document(
        [Measure("site.size", "built site size", "MB", [3.0], Target(25.0))],
        1,
        datetime(2026, 1, 2, tzinfo=UTC),
        report.environment(),
    )
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\n{report.START}\nold\n{report.END}\n\nafter\n", encoding="utf-8")
    report.update_block(page, doc, "zh", "docs/assets/r.json")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n") and text.endswith("\n\nafter\n")
    assert "old" not in text and "2026-01-02" in text
    assert "构建出的站点大小" in text and "达标" in text and "`docs/assets/r.json`" in text


def test_cells_are_timed_inside_python_in_one_fresh_namespace() -> None:
    from bench import browser

    cells = ["x = sum(i * i for i in range(20000))", "raise ValueError('on purpose')", "print(x)"]
    assert browser.run_on_cpython(cells) > 0  # how fast is `make bench`'s business
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(browser.timed_cell_code(cells), namespace)
    assert "x" not in namespace, "the cells run in their own namespace"
    text = out.getvalue()
    assert str(sum(i * i for i in range(20000))) in text, "later cells see earlier ones"
    assert "BENCH_CELL_ERROR ValueError" in text, "a failing cell does not stop the rest"
    assert browser.elapsed(text) > 0


def test_merge_keeps_whole_groups_from_one_run() -> None:
    old = {
        "started": "2026-01-02T10:00:00+00:00",
        "results": [
            {"key": "figures.noop", "median": 1.0},
            {"key": "probes.overhead", "median": 2.0},
        ],
    }
    new = {
        "started": "2026-01-02T11:00:00+00:00",
        "results": [{"key": "probes.overhead", "median": 1.1}, {"key": "site.size", "median": 3}],
    }
    merged = report.merge(old, new)
    assert [(m["key"], m["median"]) for m in merged["results"]] == [
        ("figures.noop", 1.0),
        ("site.size", 3),
        ("probes.overhead", 1.1),
    ]
    assert merged["parts"]["figures"].startswith("2026-01-02T10")
    assert merged["parts"]["probes"].startswith("2026-01-02T11")


def test_the_scratch_copy_keeps_the_source_pages_links() -> None:
    """docs/*/source/ links to chapters_src/: a copy that followed them lost the .toml beside each
    module, and the site group's build failed in the copy."""
    from bench.scratch import scratch_copy

    with scratch_copy(("docs/en/source", "chapters_src")) as root:
        module = next((root / "docs" / "en" / "source").glob("*.py"))
        assert module.is_symlink(), f"{module.name} was copied as a file"
        assert module.resolve().with_suffix(".toml").is_file()
        assert root in module.resolve().parents, "the link must point inside the copy"
