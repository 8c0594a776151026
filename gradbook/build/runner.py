"""Run stale chapters, each in its own process, and publish the ones that succeed.

A chapter runs as `python chapters_src/X.py` with `GRADBOOK_OUT` pointing at a staging directory,
so a crash cannot corrupt another chapter or the committed figures. Up to `jobs` chapters run at
once. Publishing (swap into place, manifest update) happens in this process, one chapter at a time.
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

from gradbook.build import failure, manifest, publish
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
    error_file: Path
    log: Path
    log_handle: IO[bytes]


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the runner dies, so no orphan keeps writing (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def chapter_env(root: Path, staged: Path, error_file: Path, quick: bool) -> dict[str, str]:
    """The environment of a chapter process: where to write, which mode, a fixed hash seed."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env.update(
        GRADBOOK_OUT=str(staged),
        GRADBOOK_QUICK="1" if quick else "0",
        GRADBOOK_ERROR_FILE=str(error_file),
        PYTHONPATH=str(root) + (os.pathsep + path if path else ""),
        PYTHONHASHSEED="0",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MPLBACKEND="Agg",
    )
    return env


class Runner:
    """Runs jobs with bounded parallelism; publishes successes into `out_root`."""

    def __init__(self, root: Path, out_root: Path, quick: bool, jobs: int):
        self.root = root
        self.out_root = out_root
        self.quick = quick
        self.mode = "quick" if quick else "full"
        self.jobs = max(1, jobs)
        self.logs = root / "build" / "logs" / ("quick" if quick else "full")

    def _launch(self, job: Job) -> _Running:
        slug = job.chapter.slug
        staged = publish.staging_dir(self.out_root, slug)
        error_file = staged.with_name(staged.name + ".error.json")
        error_file.unlink(missing_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{slug}.log"
        handle = open(log, "wb")  # noqa: SIM115 - closed in _finish
        proc = subprocess.Popen(
            [sys.executable, str(job.chapter.source)],
            cwd=self.root,
            env=chapter_env(self.root, staged, error_file, self.quick),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        return _Running(job, proc, staged, error_file, log, handle)

    def _finish(self, run: _Running, seconds: float) -> Outcome:
        run.log_handle.close()
        slug = run.job.chapter.slug
        rc = run.proc.returncode
        if rc == 0 and not (run.staged / "results.json").is_file():
            fail = failure.Failure(
                "incomplete", "the chapter exited without writing results.json (call ch.finish())"
            )
        elif rc != 0:
            fail = failure.read_report(run.error_file) or failure.from_stderr(
                run.log.read_text(encoding="utf-8", errors="replace"), run.job.chapter.source, rc
            )
        else:
            fail = None
        run.error_file.unlink(missing_ok=True)
        if fail is not None:
            shutil.rmtree(run.staged, ignore_errors=True)
            return Outcome(slug, False, seconds, fail, run.log)
        outputs = manifest.output_hashes(run.staged)
        with manifest.locked(self.out_root):  # another build may publish into the same directory
            publish.swap_in(run.staged, self.out_root / slug)
            data = manifest.load(self.out_root, self.mode)
            data["chapters"][slug] = {"inputs": run.job.inputs, "outputs": outputs}
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
                run.error_file.unlink(missing_ok=True)
        return [outcomes[j.chapter.slug] for j in jobs]
