"""What only the build knows about a chapter's run: its inputs' hash, the commit, the date.

The chapter itself writes `provenance.json` (seeds, config, library versions, its figures): those
fields are the same on every run, so the file stays byte-reproducible like the figures. The fields
below change from run to run (a date, a commit made after the code), so they live in the chapter's
manifest entry as `"run"`, beside the hashes the currency check compares but not among them:
rerunning a chapter on the same inputs still yields the same files, and `--check` still says
"current" exactly when the outputs are those of the current inputs. The site joins both records
into the provenance the reader sees (`gradbook.pages.figures.provenance`).
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

UNCOMMITTED = "uncommitted"


def inputs_digest(inputs: dict[str, str]) -> str:
    """One hash for all of a chapter's inputs (path and hash per line, in path order)."""
    lines = "".join(f"{path} {digest}\n" for path, digest in sorted(inputs.items()))
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()


def commit_of(root: Path, inputs: dict[str, str]) -> str:
    """HEAD, if every input file is committed as it is on disk; "uncommitted" if one differs.

    "unknown" when `root` is not a git checkout (a tarball) or git is missing.
    """
    try:
        head = _git(root, "rev-parse", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *sorted(inputs))
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return UNCOMMITTED if dirty else head


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def run_record(root: Path, inputs: dict[str, str]) -> dict[str, str]:
    """The manifest's `"run"` entry of a chapter that has just succeeded."""
    return {
        "inputs_sha256": inputs_digest(inputs),
        "commit": commit_of(root, inputs),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
