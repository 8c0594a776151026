"""A throwaway copy of the work tree, so timing `make figures` never touches the real one."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def tracked_files(repo: Path = REPO) -> list[str]:
    """Files git knows or would know (tracked plus untracked-not-ignored): the tree a clone has,
    including work in progress, without venvs, builds or caches."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    return sorted({p for p in out.decode().split("\0") if p})


@contextmanager
def scratch_copy(parts: tuple[str, ...] = (), repo: Path = REPO) -> Iterator[Path]:
    """Copy the work tree (or only paths under `parts`) to a temp dir; delete it afterwards."""
    with tempfile.TemporaryDirectory(prefix="gradbook-bench-") as tmp:
        root = Path(tmp) / "repo"
        for rel in tracked_files(repo):
            if parts and not any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in parts):
                continue
            src = repo / rel
            if not src.is_file():  # deleted in the work tree but still in the index
                continue
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)  # docs/*/source/ links stay links
        yield root
