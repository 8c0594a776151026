"""Why a chapter failed, told in one glance: exception type, message, and the chapter line.

The runner reads it from the chapter process's log: the last traceback Python printed there names
the exception and every frame, so the chapter needs no reporting hook of its own. A process that
died without a traceback (a signal, `sys.exit(3)`) is described by its exit status and the last
lines of its log.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+)')
TAIL_LINES = 8


@dataclass
class Failure:
    """What went wrong in one chapter run."""

    type: str  # e.g. "gradbook.train.NonFiniteError"
    message: str
    location: str = ""  # the deepest line of the chapter module in the traceback: file:line
    origin: str = ""  # where it was raised, if not in the chapter module
    tail: list[str] = field(
        default_factory=list
    )  # the log's last lines, when there is no traceback

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
        if self.tail:
            text += "\n    last lines of the log:\n" + "\n".join(f"    | {ln}" for ln in self.tail)
        return text


def _last_traceback(lines: list[str]) -> tuple[list[tuple[str, str]], list[str]] | None:
    """(frames, exception lines) of the last traceback in `lines`, or None if there is none."""
    starts = [i for i, ln in enumerate(lines) if ln.rstrip() == TRACEBACK]
    if not starts:
        return None
    frames: list[tuple[str, str]] = []
    body = lines[starts[-1] + 1 :]
    for i, ln in enumerate(body):
        m = _FRAME.match(ln)
        if m:
            frames.append((m["file"], m["line"]))
        elif ln and not ln.startswith(" "):  # the first unindented line: "Type: message"
            return frames, [x for x in body[i:] if x.strip()]
    return frames, []


def from_log(log: str, chapter: Path, returncode: int) -> Failure:
    """Read a failed chapter process's log: its last traceback, else its exit status and tail."""
    lines = log.rstrip().splitlines()
    tail = [ln for ln in lines if ln.strip()][-TAIL_LINES:]
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return Failure("killed", f"the chapter process died from signal {name}", tail=tail)
    found = _last_traceback(lines)
    if found is None or not found[1]:
        return Failure("exit", f"the chapter process exited with status {returncode}", tail=tail)
    frames, exc = found
    kind, _, message = exc[0].partition(": ")
    message = "\n    ".join([message.strip(), *exc[1:TAIL_LINES]]).strip()
    ours = [f"{f}:{n}" for f, n in frames if Path(f).resolve() == chapter.resolve()]
    origin = f"{frames[-1][0]}:{frames[-1][1]}" if frames else ""
    return Failure(kind.strip(), message, ours[-1] if ours else "", origin)
