"""Why a chapter failed, told in one glance: exception type, message, and the chapter line.

The chapter process (under the runner) installs `install_excepthook`, which writes a small JSON
report to `GRADBOOK_ERROR_FILE` before the usual traceback. The runner reads it with `read_report`;
if the process died before it could write one (a crash, a kill, an import error before
`Chapter.start`), `from_stderr` digs the same facts out of the traceback text.
"""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType


@dataclass
class Failure:
    """What went wrong in one chapter run."""

    type: str  # e.g. "gradbook.train.NonFiniteError"
    message: str
    location: str = ""  # the deepest line of the chapter module in the traceback: file:line
    origin: str = ""  # where it was raised, if not in the chapter module

    def describe(self, root: Path) -> str:
        def rel(loc: str) -> str:
            try:
                path, line = loc.rsplit(":", 1)
                return f"{Path(path).resolve().relative_to(root.resolve())}:{line}"
            except ValueError:
                return loc

        text = f"{self.type}: {self.message}" if self.message else self.type
        if self.location:
            text += f"\n    at {rel(self.location)}"
        if self.origin and self.origin != self.location:
            text += f" (raised in {rel(self.origin)})"
        return text


def _qualname(exc: BaseException) -> str:
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def from_exception(exc: BaseException, chapter: Path) -> Failure:
    """Build a report from a live exception; `chapter` is the chapter module's path."""
    frames = traceback.extract_tb(exc.__traceback__)
    chapter_frames = [f for f in frames if Path(f.filename).resolve() == chapter.resolve()]
    location = (
        f"{chapter_frames[-1].filename}:{chapter_frames[-1].lineno}" if chapter_frames else ""
    )
    origin = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return Failure(_qualname(exc), str(exc), location, origin)


def install_excepthook(chapter: Path) -> None:
    """In a chapter process under the runner: report an uncaught exception to GRADBOOK_ERROR_FILE."""
    target = os.environ.get("GRADBOOK_ERROR_FILE")
    if not target:
        return
    previous = sys.excepthook

    def hook(cls: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        try:
            report = from_exception(exc.with_traceback(tb), chapter)
            Path(target).write_text(json.dumps(asdict(report)), encoding="utf-8")
        finally:
            previous(cls, exc, tb)

    sys.excepthook = hook


def read_report(path: Path) -> Failure | None:
    """The report a chapter process wrote, if any."""
    try:
        return Failure(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)', re.M)
_LAST = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit|Warning)?)(?::\s?(?P<msg>.*))?$"
)


def from_stderr(stderr: str, chapter: Path, returncode: int) -> Failure:
    """Best effort when no report was written: parse the traceback, else describe the exit code."""
    if returncode < 0:
        import signal

        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return Failure("killed", f"the chapter process died from signal {name}")
    frames = [(m["file"], m["line"]) for m in _FRAME.finditer(stderr)]
    lines = [ln for ln in stderr.rstrip().splitlines() if ln.strip()]
    if "Traceback (most recent call last)" in stderr and lines:
        m = _LAST.match(lines[-1])
        kind, msg = (m["type"], m["msg"] or "") if m else ("error", lines[-1])
        ours = [f"{f}:{n}" for f, n in frames if Path(f).resolve() == chapter.resolve()]
        origin = f"{frames[-1][0]}:{frames[-1][1]}" if frames else ""
        return Failure(kind, msg, ours[-1] if ours else "", origin)
    tail = lines[-1] if lines else "no output"
    return Failure("exit", f"the chapter process exited with status {returncode}: {tail}")
