"""The site build's time (both languages, `python -m gradbook.pages`) and what the site weighs."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from bench import targets
from bench.measure import Measure, megabytes, timed
from bench.pageweight import PYODIDE_DIR, page_weight, tree_bytes
from bench.scratch import REPO, scratch_copy

# Git-ignored things `make setup`/`make web` put in the tree that the site build reads.
# KaTeX typesets the math at build time; build/svg holds the figures minified (web/minify_figures.mjs)
BUILT_INPUTS = ("build/web", "build/svg", "web/node_modules/katex")


def mkdocs_build(site_dir: Path, repo: Path = REPO) -> None:
    """The build `make site` runs (English, then Chinese), into `site_dir` instead of `site/`."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    cmd = [sys.executable, "-m", "gradbook.pages", "--out", str(site_dir), "--root", str(repo)]
    done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"site build failed:\n{done.stderr[-3000:]}")


def time_build(reps: int, site_dir: Path, repo: Path = REPO) -> Measure:
    """Median wall time of `reps` clean builds; the last one is left in `site_dir`."""
    runs = [timed(lambda: mkdocs_build(site_dir, repo))[0] for _ in range(reps)]
    return Measure("site.mkdocs_build", "mkdocs build, en + zh", "s", runs, targets.MKDOCS_BUILD_S)


def time_builds_in_copy(reps: int, site_dir: Path) -> list[Measure]:
    """A first build in a fresh copy of the work tree (empty build caches, as in a new clone),
    then `reps` more (caches warm, as on an author's machine). The real tree is not touched."""
    with scratch_copy() as root:
        for rel in BUILT_INPUTS:
            if (REPO / rel).exists():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).symlink_to(REPO / rel, target_is_directory=True)
        first = timed(lambda: mkdocs_build(site_dir, root))[0]
        warm = time_build(reps, site_dir, root)
    cold = Measure(
        "site.mkdocs_build.first",
        "mkdocs build, en + zh, fresh clone",
        "s",
        [first],
        targets.MKDOCS_BUILD_S,
        note="empty caches, 1 run",
    )
    return [warm, cold]


def chapter_pages(site_dir: Path) -> dict[str, dict[str, Path]]:
    """Built chapter pages by slug and language: {"01_backprop": {"en": ..., "zh": ...}}."""
    pages: dict[str, dict[str, Path]] = {}
    for index in sorted(site_dir.rglob("chapters/*/index.html")):
        lang = index.relative_to(site_dir).parts[0]
        lang = lang if lang != "chapters" else "en"
        pages.setdefault(index.parent.name, {})[lang] = index
    return pages


def gzipped(files: Iterable[Path]) -> int:
    """What the files weigh compressed as a static host would send them (gzip, level 6)."""
    return sum(len(gzip.compress(p.read_bytes(), compresslevel=6)) for p in files)


def pyodide_dirs(site_dir: Path) -> list[Path]:
    """Every copy of the Pyodide directory in the site (there should be exactly one)."""
    return sorted(p for p in site_dir.rglob(PYODIDE_DIR) if p.is_dir())


def sizes(site_dir: Path) -> list[Measure]:
    """Whole site, the Pyodide directory, and the files chapter pages reference (what they load
    in a browser is measured by `bench.browser.page_weights`)."""
    out = [
        Measure(
            "site.size", "built site size", "MB", [megabytes(tree_bytes(site_dir))], targets.SITE_MB
        )
    ]
    pyo = pyodide_dirs(site_dir)
    out.append(
        Measure(
            "site.pyodide_dir",
            "Pyodide directory in the site",
            "MB",
            [megabytes(sum(tree_bytes(p) for p in pyo))],
            note=f"{len(pyo)} cop{'y' if len(pyo) == 1 else 'ies'}",
        )
    )
    pages = {
        (slug, lang): page_weight(path, site_dir)
        for slug, by_lang in chapter_pages(site_dir).items()
        for lang, path in by_lang.items()
    }
    if pages:
        (slug, lang), largest = max(pages.items(), key=lambda item: item[1].total)
        out.append(
            Measure(
                "site.page_files",
                "largest chapter page, files it references",
                "MB",
                [megabytes(largest.total)],
                note=f"{slug} {lang}; static upper bound, no search index",
                extra={
                    f"{s}.{lg}": {"bytes": w.total, "by_kind": w.by_kind()}
                    for (s, lg), w in pages.items()
                },
            )
        )
        external = sorted({url for w in pages.values() for url in w.external})
        out.append(
            Measure(
                "site.third_party_urls",
                "third-party URLs the chapter pages load",
                "URLs",
                [float(len(external))],
                targets.THIRD_PARTY,
                extra={"urls": external},
            )
        )
    return out


def run(reps: int, work: Path) -> tuple[list[Measure], Path]:
    """Time the build and weigh its output; return the measures and the built site."""
    site_dir = work / "site"
    return [*time_builds_in_copy(reps, site_dir), *sizes(site_dir)], site_dir
