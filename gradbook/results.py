"""results.json and atomic file writes.

Every file the book generates is written atomically: to a temporary file in the same directory, fsync'd,
then moved over the target with `os.replace`. A build killed at any moment leaves either the old file
or the new one, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` so that readers see the old file or the new one, nothing between."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename inside `path` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ResultsError(ValueError):
    """A results value that cannot go into results.json (NaN, inf, or not JSON), with its key path."""


def to_jsonable(value: Any, path: str = "") -> Any:
    """Check and convert a results value: numpy/torch scalars and arrays become numbers and lists.

    Fails on NaN/inf (publish `None` and say why in the text instead) and on anything JSON cannot
    hold, naming the key path (`a/b/0`) so the chapter author knows where to look.
    """
    where = path or "<root>"
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ResultsError(
                f"results key {where!r} is {value!r}; results.json holds finite numbers only "
                "(store None and explain the divergence in the text)"
            )
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ResultsError(
                    f"results key {where!r} has a non-string key {k!r} ({type(k).__name__}); "
                    f"use str keys, e.g. {str(k)!r}"
                )
            out[k] = to_jsonable(v, f"{path}/{k}" if path else k)
        return out
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy / torch scalars and arrays
        return to_jsonable(value.tolist(), path)
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [to_jsonable(v, f"{path}/{i}") for i, v in enumerate(value)]
    raise ResultsError(
        f"results key {where!r} holds a {type(value).__module__}.{type(value).__qualname__}, "
        "which JSON cannot represent"
    )


def dumps(obj: Any) -> str:
    """The one JSON layout of the book: indented, UTF-8 as is, key order kept, newline at the end."""
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Validate `obj` (see `to_jsonable`) and write it atomically."""
    return atomic_write_text(path, dumps(to_jsonable(obj)))


def get_path(obj: Any, path: Sequence[str]) -> Any:
    """Follow a key path (`["chain_grad", "0.2"]`; list items by index, -1 for the last)."""
    cur = obj
    for key in path:
        if isinstance(cur, Mapping):
            cur = cur[key]
        elif isinstance(cur, list):
            cur = cur[int(key)]
        else:
            raise KeyError(key)
    return cur


def has_path(obj: Any, path: Sequence[str]) -> bool:
    """True if `get_path(obj, path)` would succeed."""
    try:
        get_path(obj, path)
    except (KeyError, IndexError, ValueError):
        return False
    return True


def results_path(slug: str, root: str | os.PathLike[str] | None = None) -> Path:
    """`figures/<slug>/results.json` under `root` (default: this repository)."""
    return Path(root or REPO_ROOT) / "figures" / slug / "results.json"


def load(slug: str, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The committed results of a chapter, e.g. `load("02_activations")["test_acc"]["relu"]`."""
    path = results_path(slug, root)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no results for chapter {slug!r}: {path} does not exist (run `make figures`)"
        ) from None
