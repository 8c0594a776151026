"""`mkdocs build` time (both languages in one build) and what the built site weighs."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

from bench import targets
from bench.measure import Measure, megabytes, timed
from bench.pageweight import PYODIDE_DIR, page_weight, tree_bytes
from bench.scratch import REPO, scratch_copy

MKDOCS = Path(sys.executable).with_name("mkdocs")


# Git-ignored things `make setup`/`make web` put in the tree that the site build reads.
BUILT_INPUTS = ("build/web", "gradbook/site/vendor/node_modules")


def mkdocs_build(site_dir: Path, repo: Path = REPO, config: str = "mkdocs.yml") -> None:
    """The build `make site` runs, into `site_dir` instead of `site/`."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(repo)}
    cmd = [str(MKDOCS), "build", "--strict", "--clean", "-f", config, "-d", str(site_dir)]
    done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mkdocs build failed:\n{done.stderr[-3000:]}")


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


def gzipped(files: dict[Path, int]) -> int:
    """What the files weigh compressed as a static host would send them (gzip, level 6)."""
    return sum(len(gzip.compress(p.read_bytes(), compresslevel=6)) for p in files)


def pyodide_dirs(site_dir: Path) -> list[Path]:
    """Every copy of the Pyodide directory in the site (there should be exactly one)."""
    return sorted(p for p in site_dir.rglob(PYODIDE_DIR) if p.is_dir())


def sizes(site_dir: Path) -> list[Measure]:
    """Whole site, the Pyodide directory, and each chapter page (worst language) without Pyodide."""
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
    for slug, by_lang in chapter_pages(site_dir).items():
        weights = {lang: page_weight(p, site_dir) for lang, p in by_lang.items()}
        worst = max(weights, key=lambda lang: weights[lang].total)
        w = weights[worst]
        extra = {
            lang: {"bytes": pw.total, "by_kind": pw.by_kind(), "external": pw.external}
            for lang, pw in weights.items()
        }
        out.append(
            Measure(
                f"site.page.{slug}",
                f"page {slug} without Pyodide",
                "MB",
                [megabytes(w.total)],
                targets.PAGE_MB,
                note=f"{worst}, {megabytes(gzipped(w.files)):.2f} MB gzipped"
                + (f", {len(w.external)} third-party URLs!" if w.external else ""),
                extra=extra,
            )
        )
    return out


def run(reps: int, work: Path) -> tuple[list[Measure], Path]:
    """Time the build and weigh its output; return the measures and the built site."""
    site_dir = work / "site"
    return [*time_builds_in_copy(reps, site_dir), *sizes(site_dir)], site_dir
