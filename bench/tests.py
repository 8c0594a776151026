"""`make test`, timed once per bench run: the whole suite's wall time (the target), its CPU time
and the seconds each test file took.

The suite is the bench's most expensive measure (minutes, dominated by chapters trained in
notebooks and Pyodide booted in Chromium), so it runs once whatever `--reps` says. The CPU time
(this process's finished children: pytest, and everything it started and waited for) says how much
of the wall time was the machine's other work. Per-file seconds come from pytest's own JUnit XML
report (`PYTEST_ADDOPTS`, so the command stays `make test`'s).
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from bench import targets
from bench.measure import Measure
from bench.scratch import REPO

COMMAND = ("make", "--no-print-directory", "test")
TIMEOUT_S = 3600  # a hung suite fails the bench instead of holding it forever


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def per_file(report: Path) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds per test file and the outcome counts, from a JUnit XML report."""
    files: dict[str, float] = {}
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("classname", "").split(".")[-1] or "?"
        files[name] = files.get(name, 0.0) + float(case.get("time", 0))
        counts["tests"] += 1
        for outcome, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            if case.find(outcome) is not None:
                counts[key] += 1
    return dict(sorted(files.items(), key=lambda kv: -kv[1])), counts


def run(command: Sequence[str] = COMMAND, cwd: Path = REPO) -> list[Measure]:
    """Run `command` (`make test` by default) once; its wall time against the target."""
    with tempfile.TemporaryDirectory(prefix="gradbook-bench-tests-") as tmp:
        report = Path(tmp) / "junit.xml"
        addopts = f"{os.environ.get('PYTEST_ADDOPTS', '')} --junitxml={report}".strip()
        env = {**os.environ, "PYTEST_ADDOPTS": addopts}
        load = os.getloadavg()[0]
        cpu, t0 = _children_cpu(), time.perf_counter()
        proc = subprocess.run(
            list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
        seconds, cpu = time.perf_counter() - t0, _children_cpu() - cpu
        files, counts = per_file(report) if report.is_file() else ({}, {})
    failed = counts.get("failures", 0) + counts.get("errors", 0)
    outcome = (
        f"{counts.get('tests', 0) - failed - counts.get('skipped', 0)} passed, {failed} failed"
        if counts
        else f"no report, exit {proc.returncode}"
    )
    note = f"{' '.join(command)}: {outcome}, {cpu:.0f} CPU s, load {load:.1f}"
    return [
        Measure(
            "tests.total",
            "the test suite (make test)",
            "s",
            [seconds],
            targets.TESTS_TOTAL_S,
            note=note,
            extra={
                "cpu_s": cpu,
                "returncode": proc.returncode,
                "counts": counts,
                "files_s": files,
                "tail": proc.stdout[-3000:],
            },
        )
    ]
