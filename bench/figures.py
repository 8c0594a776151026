"""`make figures` timing, in a scratch copy of the work tree so the committed figures stay untouched.

Per repetition: a clean build (empty output directory), a no-op rebuild (nothing changed), and a
rebuild after touching one chapter's module (a new comment line, so its hash changes). The runner
is driven as `make figures` drives it (`python -m gradbook.build`, default jobs), and the
per-chapter seconds are the ones it reports for each chapter process.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import targets
from bench.measure import Measure, timed
from bench.scratch import REPO, scratch_copy

# The runner's progress lines, read loosely: "01_fine: ok in 6.1 s ...", "... 1 to run, 0 current".
DONE_LINE = re.compile(r"\b(\d\d_[a-z0-9_]+): (ok|FAILED) in ([0-9.]+) s")
PLAN_LINE = re.compile(r"\b(\d+) to run\b")
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
    cmd = [sys.executable, "-m", "gradbook.build", "--root", str(root)]
    if quick:
        cmd += ["--quick", "--out", str(root / "figures-quick")]
    if only:
        cmd += ["--only", *only]
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, done = timed(
        lambda: subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"figure build failed ({done.returncode}):\n{output[-3000:]}")
    plan = PLAN_LINE.search(output)
    chapters = {slug: float(s) for slug, status, s in DONE_LINE.findall(output) if status == "ok"}
    if plan is None:
        raise RuntimeError(
            f"no 'N to run' line in the runner's output (format changed?):\n{output}"
        )
    return BuildRun(seconds, cpu, int(plan.group(1)), chapters, output)


def out_dir(root: Path, quick: bool) -> Path:
    return root / ("figures-quick" if quick else "figures")


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
