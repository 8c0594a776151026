"""`--json PATH`: what a build or check did, per chapter, for programs (bench, tests) to read.

The terminal output is for people and may change; this file is the stable interface:

    {"version": 1, "command": "build" | "check", "mode": "full" | "quick", "out": "/abs/figures",
     "exit": 0, "seconds": 81.2, "orphans": [],
     "chapters": [{"slug": "01_backprop", "status": "ok", "seconds": 20.4, "reasons": ["changed ..."],
                   "log": "/abs/build/logs/full/01_backprop.log", "error": null}, ...]}

`status` is "current" (nothing to do), "ok" (ran and published), "failed" (ran, outputs kept) or,
under `--check`, "stale". Chapters are listed in book order; `seconds` is the chapter process's wall
time (null when it did not run).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gradbook.results import atomic_write_text

VERSION = 1


@dataclass
class ChapterRecord:
    slug: str
    status: str
    reasons: list[str] = field(default_factory=list)
    seconds: float | None = None
    log: str | None = None
    error: str | None = None


def write(
    path: Path, command: str, mode: str, out: Path, exit_code: int, seconds: float,
    chapters: list[ChapterRecord], orphans: list[str],
) -> None:  # fmt: skip
    """Write the record atomically (a reader never sees half of it)."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "command": command,
        "mode": mode,
        "out": str(out),
        "exit": exit_code,
        "seconds": round(seconds, 3),
        "orphans": orphans,
        "chapters": [asdict(c) for c in sorted(chapters, key=lambda c: c.slug)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def read(path: Path) -> dict[str, Any]:
    """A record written by `write`; refuses another version rather than misreading it."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("version") != VERSION:
        raise ValueError(f"{path}: build record version {doc.get('version')!r}, expected {VERSION}")
    return doc
