"""Progress for `make figures`: a tqdm bar on a terminal, plain lines in a log (CI, pipes)."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

tqdm.monitor_interval = 0  # no monitor thread: the runner forks chapter processes


class Progress:
    """One line when a chapter starts and one when it ends; a bar over the chapters on a tty."""

    def __init__(self, total: int, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.launched = 0
        self.finished = 0
        self.started: dict[str, float] = {}
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = tqdm(
            total=total, desc="chapters", unit="ch", file=self.stream, disable=not tty or total == 0,
            leave=False, dynamic_ncols=True, bar_format="{desc} {n}/{total} |{bar}| {elapsed}{postfix}",
        )  # fmt: skip

    def say(self, text: str) -> None:
        tqdm.write(text, file=self.stream)
        self.stream.flush()

    def start(self, slug: str) -> None:
        self.started[slug] = time.monotonic()
        self.launched += 1
        self.say(f"  {slug}: running ({self.launched} of {self.total})")
        self.bar.set_postfix_str(", ".join(self.started), refresh=True)

    def done(self, slug: str, ok: bool, note: str = "") -> float:
        seconds = time.monotonic() - self.started.pop(slug)
        self.finished += 1
        status = "ok" if ok else "FAILED"
        self.say(f"  {slug}: {status} in {seconds:.1f} s{note} [{self.finished}/{self.total} done]")
        self.bar.update(1)
        self.bar.set_postfix_str(", ".join(self.started), refresh=True)
        return seconds

    def close(self) -> None:
        self.bar.close()
