"""`python -m gradbook.build`: rerun exactly the chapters whose inputs changed.

    python -m gradbook.build                 # stale chapters -> figures/, manifest updated
    python -m gradbook.build --quick         # all chapters, few steps -> build/figures-quick/
    python -m gradbook.build --check         # exit 1 if the committed figures are not current
    python -m gradbook.build --only 02 --force --jobs 1
    python -m gradbook.build --json build.json   # also record per-chapter status and seconds

Exit status: 0 when every selected chapter is current or was rebuilt, 1 when a chapter failed or
(`--check`) is stale, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from gradbook.build import discover, hashing, manifest, paths, publish, record
from gradbook.build.progress import Progress
from gradbook.build.record import ChapterRecord
from gradbook.build.runner import Job, Runner

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_JOBS = 2  # measured: two single-threaded chapters on two cores
Result = tuple[int, list[str], list[ChapterRecord]]  # exit status, orphans, per-chapter records


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m gradbook.build", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="few steps, same code (scratch output)")
    p.add_argument("--out", type=Path, help=f"output directory (default: {paths.FIGURES}/, or "
                   f"{paths.QUICK}/ with --quick)")  # fmt: skip
    p.add_argument(
        "--force", action="store_true", help="rerun the selected chapters even if current"
    )
    p.add_argument("--only", nargs="+", default=[], metavar="SLUG",
                   help="chapters to consider: 02_activations, 02 or activations")  # fmt: skip
    p.add_argument("--jobs", type=int, default=min(DEFAULT_JOBS, os.cpu_count() or 1))
    p.add_argument("--check", action="store_true",
                   help="only verify that the outputs are current for their sources (no training)")  # fmt: skip
    p.add_argument("--root", type=Path, default=REPO_ROOT, help="project root (default: this repo)")
    p.add_argument("--json", type=Path, metavar="PATH",
                   help="write what happened, per chapter, as JSON (see gradbook/build/record.py)")  # fmt: skip
    return p.parse_args(argv)


def out_root_for(root: Path, out: Path | None, quick: bool) -> Path:
    figures = paths.default_out(root, quick=False).resolve()
    if out is None:
        return paths.default_out(root, quick).resolve()
    out = (out if out.is_absolute() else Path.cwd() / out).resolve()
    if quick and out == figures:
        raise SystemExit("--quick never writes into figures/: quick numbers must not be committed")
    return out


def plan(root: Path, out_root: Path, chapters, data, force: bool) -> tuple[list[Job], list[str]]:
    """(jobs for the stale chapters, slugs of the current ones)."""
    jobs, current = [], []
    for ch in chapters:
        inputs = hashing.input_hashes(root, ch.source, ch.config)
        entry = data["chapters"].get(ch.slug)
        reasons = manifest.stale_reasons(entry, inputs, out_root / ch.slug)
        if force and not reasons:
            reasons = ["--force"]
        if reasons:
            jobs.append(Job(ch, inputs, reasons))
        else:
            current.append(ch.slug)
    return jobs, current


def orphans(out_root: Path, chapters, data) -> list[str]:
    """Output directories or manifest entries whose chapter source no longer exists."""
    known = {c.slug for c in chapters}
    dirs = {p.name for p in out_root.iterdir() if p.is_dir() and discover.CHAPTER_FILE.match(p.name + ".py")} if out_root.is_dir() else set()  # fmt: skip
    return sorted((dirs | set(data["chapters"])) - known)


def _display(path: Path) -> str:
    """A path relative to the working directory when it is inside it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _summary(reasons: list[str], limit: int = 3) -> str:
    more = f", +{len(reasons) - limit} more" if len(reasons) > limit else ""
    return ", ".join(reasons[:limit]) + more


def check(root: Path, out_root: Path, chapters, all_chapters, mode: str) -> Result:
    """(exit status, orphans, one record per chapter): are the outputs current for the sources?"""
    data = manifest.load(out_root, mode)
    jobs, current = plan(root, out_root, chapters, data, force=False)
    lost = orphans(out_root, all_chapters, data) if len(chapters) == len(all_chapters) else []
    records = [ChapterRecord(s, "current") for s in current]
    records += [ChapterRecord(j.chapter.slug, "stale", j.reasons) for j in jobs]
    if not (out_root / manifest.NAME).is_file():
        print(f"no {manifest.NAME} in {out_root}: run `make figures`", file=sys.stderr)
    for job in jobs:
        print(f"stale: {job.chapter.slug} ({_summary(job.reasons)})", file=sys.stderr)
    for slug in lost:
        print(f"orphaned: {slug} (outputs without a chapter source)", file=sys.stderr)
    if jobs or lost or not chapters:
        if not chapters:
            print("no chapters found in chapters_src/", file=sys.stderr)
        print("figures are not current: run `make figures` and commit figures/", file=sys.stderr)
        return 1, lost, records
    print(f"figures current: {len(current)} chapters", file=sys.stderr)
    return 0, lost, records


def build(
    root: Path, out_root: Path, chapters, all_chapters, quick: bool, force: bool, jobs: int
) -> Result:
    """(exit status, orphans, one record per chapter): rerun the stale chapters and publish them."""
    mode = paths.mode(quick)
    started = time.monotonic()
    out_root.mkdir(parents=True, exist_ok=True)
    publish.clean_stale_staging(out_root)
    data = manifest.load(out_root, mode)
    todo, current = plan(root, out_root, chapters, data, force)
    lost = orphans(out_root, all_chapters, data)
    records = [ChapterRecord(s, "current") for s in current]
    where = _display(out_root)
    print(f"gradbook figures ({mode}) -> {where}: chapters: {len(chapters)}, "
          f"{len(todo)} to run, {len(current)} current", file=sys.stderr)  # fmt: skip
    for job in todo:
        print(f"  {job.chapter.slug}: {_summary(job.reasons)}", file=sys.stderr)
    for slug in lost:
        print(f"  note: {slug} has outputs but no chapter source; left alone", file=sys.stderr)
    if not todo:
        return 0, lost, records
    progress = Progress(len(todo))
    try:
        outcomes = Runner(root, out_root, quick, jobs).run(todo, progress)
    finally:
        progress.close()
    for job, o in zip(todo, outcomes, strict=True):
        error = None if o.ok else f"{o.failure.type}: {o.failure.message}"
        log = str(o.log) if o.log else None
        records.append(ChapterRecord(o.slug, "ok" if o.ok else "failed", job.reasons,
                                     round(o.seconds, 3), log, error))  # fmt: skip
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        log = _display(o.log) if o.log else "-"
        kept = (
            f"previous outputs in {where}/{o.slug}/ left untouched"
            if (out_root / o.slug).is_dir()
            else "no previous outputs"
        )
        print(
            f"\nFAILED {o.slug}: {o.failure.describe(root)}\n    log: {log}\n    {kept}",
            file=sys.stderr,
        )
    took = time.monotonic() - started
    print(
        f"\n{len(outcomes) - len(failed)} built, {len(failed)} failed, {took:.1f} s",
        file=sys.stderr,
    )
    return (1 if failed else 0), lost, records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    if not (root / "chapters_src").is_dir():
        print(f"{root} has no chapters_src/ directory", file=sys.stderr)
        return 2
    out_root = out_root_for(root, args.out, args.quick)
    all_chapters = discover.discover(root)
    chapters = discover.select(all_chapters, args.only)
    started = time.monotonic()
    if args.check:
        rc, lost, records = check(root, out_root, chapters, all_chapters, paths.mode(args.quick))
    else:
        rc, lost, records = build(
            root, out_root, chapters, all_chapters, args.quick, args.force, args.jobs
        )
    if args.json:
        command = "check" if args.check else "build"
        seconds = time.monotonic() - started
        record.write(
            args.json, command, paths.mode(args.quick), out_root, rc, seconds, records, lost
        )
    return rc
