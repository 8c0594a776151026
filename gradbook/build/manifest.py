"""`figures/manifest.json`: per chapter, the hashes of its inputs and of its output files.

A chapter is current when its inputs hash as recorded and its output directory holds exactly the
recorded files with the recorded hashes. Anything else (an edited module, a deleted or hand-edited
figure, a stray file) makes it stale, so a build interrupted at any point is finished by the next.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gradbook.build.hashing import file_hash
from gradbook.results import atomic_write_text

NAME = "manifest.json"
LOCK = ".manifest.lock"
VERSION = 1


@contextmanager
def locked(out_root: Path) -> Iterator[None]:
    """Serialise publishing into `out_root` across processes (the OS drops the lock on a kill)."""
    with open(out_root / LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def empty(mode: str) -> dict[str, Any]:
    return {"version": VERSION, "mode": mode, "chapters": {}}


def load(out_root: Path, mode: str) -> dict[str, Any]:
    """The manifest in `out_root`, or an empty one if it is missing, unreadable or of another mode."""
    try:
        data = json.loads((out_root / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty(mode)
    if not isinstance(data, dict) or data.get("version") != VERSION or data.get("mode") != mode:
        return empty(mode)
    if not isinstance(data.get("chapters"), dict):
        return empty(mode)
    return data


def save(out_root: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically, chapters in book order, so diffs stay small."""
    manifest = {**manifest, "chapters": dict(sorted(manifest["chapters"].items()))}
    atomic_write_text(out_root / NAME, json.dumps(manifest, indent=2, sort_keys=False) + "\n")


def output_hashes(directory: Path) -> dict[str, str]:
    """`{file name: hash}` of the visible files in a chapter's output directory."""
    if not directory.is_dir():
        return {}
    return {
        p.name: file_hash(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def stale_reasons(entry: dict[str, Any] | None, inputs: dict[str, str], out_dir: Path) -> list[str]:
    """Why a chapter must rerun (empty: it is current)."""
    if not entry:
        return ["never built"]
    expected = entry.get("outputs", {})
    reasons = _differences(
        entry.get("inputs", {}), inputs, "new input", "no longer imports", "changed"
    ) + _differences(
        expected, output_hashes(out_dir), "unexpected output", "missing output", "modified output"
    )
    if not expected:
        reasons.append("no outputs recorded")
    return reasons


def _differences(
    recorded: dict[str, str], current: dict[str, str], added: str, gone: str, changed: str
) -> list[str]:
    """One reason per name that appeared, disappeared or changed its hash, in name order."""
    reasons = []
    for name in sorted(set(recorded) | set(current)):
        if name not in recorded:
            reasons.append(f"{added} {name}")
        elif name not in current:
            reasons.append(f"{gone} {name}")
        elif recorded[name] != current[name]:
            reasons.append(f"{changed} {name}")
    return reasons
