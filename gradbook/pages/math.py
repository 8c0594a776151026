"""Math typeset when the site is built, so a page needs KaTeX's stylesheet and fonts, not its script.

pymdownx.arithmatex (generic) leaves each formula as TeX in ``<span class="arithmatex">\\(..\\)``
or ``<div class="arithmatex">\\[..\\]``, and the exercises' hints carry theirs the same way inside
their ``data-hints`` attribute (JSON). This replaces the TeX with KaTeX's HTML and MathML (read
by screen readers), rendered by node with the KaTeX that ``make web`` copies into the site, so
the markup matches the site's katex.min.css. The wrapper stays: web/site/math.js, the exercises
and the PDF skip an ``.arithmatex`` that already holds ``.katex``. Only the notebook pages'
markdown cells (``$..$`` as text) are left to the browser (math.js loads KaTeX for them).

Runs on the built page (on_post_page), after Material's search indexed the page's TeX.
One node process per build, one round trip per page.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

RENDERER = Path(__file__).with_name("katex_render.cjs")
MATH = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
HINTS = re.compile(r'data-hints="([^"]*)"')


class KatexError(RuntimeError):
    """Node or KaTeX missing, or the renderer stopped."""


class Katex:
    """A node process that renders batches of formulas; started on first use."""

    def __init__(self, katex_dir: Path) -> None:
        self.katex_dir = katex_dir
        self.proc: subprocess.Popen[str] | None = None

    def render(self, formulas: list[tuple[str, bool]]) -> list[str]:
        """KaTeX's HTML for each (tex, display), in order."""
        if not formulas:
            return []
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(formulas) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            self.close()
            raise KatexError("the KaTeX renderer (node) stopped: see its message above")
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
            self.proc = None

    def _process(self) -> subprocess.Popen[str]:
        if self.proc is None or self.proc.poll() is not None:
            node = shutil.which("node")
            if node is None:
                raise KatexError("node is not on PATH: the site's math is typeset with it")
            if not (self.katex_dir / "dist" / "katex.js").is_file():
                raise KatexError(f"{self.katex_dir} has no KaTeX: run `make web`")
            self.proc = subprocess.Popen(
                [node, str(RENDERER), str(self.katex_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
        return self.proc


def typeset(page: str, katex: Katex) -> str:
    """The built page with its formulas (hints' included) rendered by KaTeX."""
    found: list[tuple[str, bool]] = []

    def collect(m: re.Match[str]) -> str:
        tex = html.unescape(m[2]).strip()
        found.append((tex[2:-2], tex.startswith("\\[")))
        return m[0]

    _each_formula(page, collect)
    if not found:
        return page
    rendered = iter(katex.render(found))

    def replace(m: re.Match[str]) -> str:
        if m[1] == "div":  # a display wider than the page scrolls: focusable for the keyboard
            return f'<div class="arithmatex" tabindex="0">{next(rendered)}</div>'
        return f'<span class="arithmatex">{next(rendered)}</span>'

    return _each_formula(page, replace)


def _each_formula(page: str, fn: Callable[[re.Match[str]], str]) -> str:
    """Apply fn to each formula of the page, then of each hint, in one fixed order."""

    def hints(m: re.Match[str]) -> str:
        items = json.loads(html.unescape(m[1]))
        items = [MATH.sub(fn, item) for item in items]
        return f'data-hints="{html.escape(json.dumps(items, ensure_ascii=False), quote=True)}"'

    return HINTS.sub(hints, MATH.sub(fn, page))
