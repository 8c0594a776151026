"""Run stale chapters, each in its own process, and publish the ones that succeed.

A chapter runs as `python chapters_src/X.py --out <staging dir> [--quick]`, so a crash cannot corrupt
another chapter or the committed figures. Its stdout and stderr go to its log, where a failure's
traceback is read back (`failure.from_log`). Up to `jobs` chapters run at once. Publishing (swap into
place, manifest update) happens in this process, one chapter at a time.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gradbook.build import failure, manifest, paths, provenance, publish
from gradbook.build.discover import ChapterSource
from gradbook.build.progress import Progress


@dataclass
class Job:
    """A stale chapter to run, with the input hashes taken before it started."""

    chapter: ChapterSource
    inputs: dict[str, str]
    reasons: list[str]


@dataclass
class Outcome:
    slug: str
    ok: bool
    seconds: float = 0.0
    failure: failure.Failure | None = None
    log: Path | None = None
    outputs: list[str] = field(default_factory=list)


@dataclass
class _Running:
    job: Job
    proc: subprocess.Popen[bytes]
    staged: Path
    log: Path
    log_handle: IO[bytes]


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the runner dies, so no orphan keeps writing (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def chapter_argv(source: Path, staged: Path, quick: bool) -> list[str]:
    """The command line of a chapter process: the one route by which it learns where and how to run."""
    return [sys.executable, str(source), "--out", str(staged), *(["--quick"] if quick else [])]


def chapter_env(root: Path) -> dict[str, str]:
    """The environment of a chapter process: this book's gradbook first, a fixed hash seed, no GUI.

    Thread counts are not set here: the chapter's toml (`threads`) is the one place for them.
    """
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env.update(
        PYTHONPATH=str(root) + (os.pathsep + path if path else ""),
        PYTHONHASHSEED="0",  # set iteration order: the same bytes on every run
        MPLBACKEND="Agg",
    )
    return env


class Runner:
    """Runs jobs with bounded parallelism; publishes successes into `out_root`."""

    def __init__(self, root: Path, out_root: Path, quick: bool, jobs: int):
        self.root = root
        self.out_root = out_root
        self.quick = quick
        self.mode = paths.mode(quick)
        self.jobs = max(1, jobs)
        self.logs = paths.logs(root, quick)

    def _launch(self, job: Job) -> _Running:
        slug = job.chapter.slug
        staged = publish.staging_dir(self.out_root, slug)
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{slug}.log"
        handle = open(log, "wb")  # noqa: SIM115 - closed in _finish
        proc = subprocess.Popen(
            chapter_argv(job.chapter.source, staged, self.quick),
            cwd=self.root,
            env=chapter_env(self.root),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        return _Running(job, proc, staged, log, handle)

    def _finish(self, run: _Running, seconds: float) -> Outcome:
        run.log_handle.close()
        slug = run.job.chapter.slug
        rc = run.proc.returncode
        if rc == 0 and not (run.staged / "results.json").is_file():
            fail = failure.Failure(
                "incomplete", "the chapter exited without writing results.json (call ch.finish())"
            )
        elif rc != 0:
            log = run.log.read_text(encoding="utf-8", errors="replace")
            fail = failure.from_log(log, run.job.chapter.source, rc)
        else:
            fail = None
        if fail is not None:
            shutil.rmtree(run.staged, ignore_errors=True)
            return Outcome(slug, False, seconds, fail, run.log)
        outputs = manifest.output_hashes(run.staged)
        ran = provenance.run_record(self.root, run.job.inputs)  # not compared by --check
        with manifest.locked(self.out_root):  # another build may publish into the same directory
            publish.swap_in(run.staged, self.out_root / slug)
            data = manifest.load(self.out_root, self.mode)
            data["chapters"][slug] = {"inputs": run.job.inputs, "outputs": outputs, "run": ran}
            manifest.save(self.out_root, data)
        return Outcome(slug, True, seconds, None, run.log, sorted(outputs))

    def run(self, jobs: list[Job], progress: Progress) -> list[Outcome]:
        """Run every job; return their outcomes in book order."""
        pending = list(jobs)
        running: list[_Running] = []
        outcomes: dict[str, Outcome] = {}
        started: dict[str, float] = {}
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    job = pending.pop(0)
                    progress.start(job.chapter.slug)
                    started[job.chapter.slug] = time.monotonic()
                    running.append(self._launch(job))
                time.sleep(0.05)
                for run in [r for r in running if r.proc.poll() is not None]:
                    running.remove(run)
                    slug = run.job.chapter.slug
                    outcome = self._finish(run, time.monotonic() - started[slug])
                    figures = sum(name.endswith(".svg") for name in outcome.outputs)
                    note = f" ({figures} figure files)" if outcome.ok else ""
                    progress.done(slug, outcome.ok, note)
                    outcomes[slug] = outcome
        finally:
            for run in running:  # interrupted: stop the children, drop their staging
                run.proc.kill()
                run.proc.wait()
                run.log_handle.close()
                shutil.rmtree(run.staged, ignore_errors=True)
        return [outcomes[j.chapter.slug] for j in jobs]
