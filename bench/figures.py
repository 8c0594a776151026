"""`make figures` timing, in a scratch copy of the work tree so the committed figures stay untouched.

Per repetition: a clean build (empty output directory), a no-op rebuild (nothing changed), and a
rebuild after touching one chapter's module (a new comment line, so its hash changes). The runner
is driven as `make figures` drives it (`python -m gradbook.build`, default jobs and output folder);
what ran and the per-chapter seconds are read from the record it writes with `--json`
(`gradbook/build/record.py`), never from its terminal output.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import targets
from bench.measure import Measure, timed
from bench.scratch import REPO, scratch_copy
from gradbook.build import paths, record

PARTS = ("chapters_src", "gradbook", "pyproject.toml")


@dataclass
class BuildRun:
    """One `python -m gradbook.build` invocation: wall seconds, chapters run and their seconds."""

    seconds: float
    cpu_seconds: float  # user + system time of the runner and every chapter process it ran
    ran: int
    chapters: dict[str, float]
    output: str


def build(root: Path, quick: bool = False, only: list[str] | None = None) -> BuildRun:
    """Run the figure build of the copy at `root` with the copy's own gradbook."""
    record_file = root / "bench-build.json"  # outside the output folder: no output of the build
    cmd = [sys.executable, "-m", "gradbook.build", "--root", str(root), "--json", str(record_file)]
    if quick:
        cmd.append("--quick")
    if only:
        cmd += ["--only", *only]
    env = {**os.environ, "PYTHONPATH": str(root)}
    record_file.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, done = timed(
        lambda: subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"figure build failed ({done.returncode}):\n{output[-3000:]}")
    chapters = record.read(record_file)["chapters"]
    ran = [c for c in chapters if c["status"] in ("ok", "failed")]
    seconds_by_slug = {c["slug"]: c["seconds"] for c in ran if c["status"] == "ok"}
    return BuildRun(seconds, cpu, len(ran), seconds_by_slug, output)


def out_dir(root: Path, quick: bool) -> Path:
    """Where the build of `root` writes by default (the build tool's own answer)."""
    return paths.default_out(root, quick)


def touch(root: Path, slug: str, n: int) -> None:
    """Change the chapter's input the way an author would: edit its module."""
    with (root / "chapters_src" / f"{slug}.py").open("a", encoding="utf-8") as f:
        f.write(f"\n# bench: touched {n}\n")


def chapter_slugs(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "chapters_src").glob("[0-9][0-9]_*.py"))


def run(
    reps: int,
    quick: bool = False,
    touch_slug: str | None = None,
    only: list[str] | None = None,
    repo: Path = REPO,
) -> list[Measure]:
    """Clean, no-op and one-chapter-touched builds, `reps` times each, in one scratch copy of `repo`."""
    clean: list[float] = []
    clean_cpu: list[float] = []
    per_chapter: dict[str, list[float]] = {}
    noop: list[float] = []
    touched: list[float] = []
    with scratch_copy(PARTS, repo) as root:
        slugs = only or chapter_slugs(root)
        if not slugs:
            raise RuntimeError("no chapters in chapters_src/")
        touch_slug = touch_slug or slugs[0]
        for rep in range(reps):
            shutil.rmtree(out_dir(root, quick), ignore_errors=True)
            first = build(root, quick, only)
            clean.append(first.seconds)
            clean_cpu.append(first.cpu_seconds)
            for slug, s in first.chapters.items():
                per_chapter.setdefault(slug, []).append(s)
            again = build(root, quick, only)
            if again.ran:
                raise RuntimeError(f"a no-op rebuild ran {again.ran} chapters:\n{again.output}")
            noop.append(again.seconds)
            touch(root, touch_slug, rep)
            after = build(root, quick, only)
            if after.ran != 1:
                raise RuntimeError(f"touching {touch_slug} reran {after.ran} chapters")
            touched.append(after.seconds)
    mode = "quick" if quick else "full"
    out = [
        Measure(
            "figures.clean.total",
            f"make figures, clean, all {len(slugs)} chapters",
            "s",
            clean,
            targets.FIGURES_TOTAL_S,
            note=mode if quick else "",
        )
    ]
    out.append(
        Measure(
            "figures.clean.cpu",
            "  CPU time of that build (all processes)",
            "s",
            clean_cpu,
            note="load-independent; / 2 cores = best wall time",
        )
    )
    for slug in sorted(per_chapter):
        out.append(
            Measure(
                f"figures.clean.{slug}",
                f"  chapter {slug}",
                "s",
                per_chapter[slug],
                targets.FIGURES_CHAPTER_S,
            )
        )
    out.append(
        Measure("figures.noop", "make figures, nothing changed", "s", noop, targets.FIGURES_NOOP_S)
    )
    out.append(
        Measure(
            "figures.touched",
            f"make figures after editing {touch_slug}",
            "s",
            touched,
            note="reruns that chapter only",
        )
    )
    return out
