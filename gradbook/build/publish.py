"""Staging directories and the atomic swap of a finished chapter into `figures/<slug>/`.

A chapter writes into `<out>/.staging/<slug>-<pid>/`. Only when it has succeeded is that directory
swapped with `<out>/<slug>/` in one `renameat2(RENAME_EXCHANGE)` call (Linux), so readers see the old
set of files or the new set, never a mix. Where the exchange is unavailable, two renames are used:
a kill between them leaves the chapter's directory missing, which the next build notices and repairs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from pathlib import Path

from gradbook.results import fsync_dir

STAGING = ".staging"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def staging_root(out_root: Path) -> Path:
    return out_root / STAGING


def staging_dir(out_root: Path, slug: str) -> Path:
    """A fresh, empty staging directory for `slug`, named after this process."""
    path = staging_root(out_root) / f"{slug}-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(out_root: Path) -> list[Path]:
    """Remove what killed builds left in `.staging/` (entries whose process is gone)."""
    removed = []
    root = staging_root(out_root)
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        pid = entry.name.split(".")[0].rpartition("-")[2]
        if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False if the system cannot."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc != 0:
        err = ctypes.get_errno()
        if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot exchange
            return False
        raise OSError(err, os.strerror(err), str(a))
    return True


def swap_in(staged: Path, final: Path) -> None:
    """Make `staged` the new `final` directory atomically; the old one is deleted afterwards."""
    for f in staged.iterdir():  # the chapter's writes are already fsync'd; make the dir durable too
        if f.is_dir():
            raise RuntimeError(f"unexpected directory {f} in a chapter's outputs")
    fsync_dir(staged)
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.rename(staged, final)
    elif _exchange(staged, final):
        shutil.rmtree(staged)  # now holds the old outputs
    else:
        old = staged.with_name(staged.name + ".old")
        os.rename(final, old)
        os.rename(staged, final)
        shutil.rmtree(old)
    fsync_dir(final.parent)
