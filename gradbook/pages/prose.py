"""Apply a rewrite to the prose of a Markdown page and leave its code alone.

The figure and number hooks rewrite page syntax; code blocks and inline code must keep their text
verbatim, because a page that *documents* the syntax (CONTRIBUTING-style examples) shows it in code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A fenced block: an opening fence of 3+ backticks or tildes (optionally indented, e.g. inside a list
# or an admonition), everything up to a closing fence of the same character and at least the same length.
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^(?P=indent)?[ \t]*(?P=fence)[`~]*[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
# An inline code span: a run of backticks, then the shortest text up to the same run.
_INLINE = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)


def _split(text: str, pattern: re.Pattern[str]) -> list[tuple[bool, str]]:
    """Split text into (is_code, chunk) pieces by the matches of pattern."""
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for m in pattern.finditer(text):
        pieces.append((False, text[pos : m.start()]))
        pieces.append((True, m.group(0)))
        pos = m.end()
    pieces.append((False, text[pos:]))
    return pieces


def map_prose(markdown: str, rewrite: Callable[[str], str]) -> str:
    """Return markdown with rewrite applied to every stretch outside fenced blocks and code spans."""
    out: list[str] = []
    for is_block, chunk in _split(markdown, _FENCE):
        if is_block:
            out.append(chunk)
            continue
        for is_span, part in _split(chunk, _INLINE):
            out.append(part if is_span else rewrite(part))
    return "".join(out)
