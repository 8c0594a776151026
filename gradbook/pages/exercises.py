"""The ```pyexercise fence: a checked exercise (starter code, a check, hints, a solution).

    ```pyexercise id="chain-weight"
    #| starter
    w = 1.0
    #| check
    from gradbook.lite import check
    check.close(w ** 30, 1e-3, rel=0.01, name="w ** 30")
    #| hint
    The derivative of the chain is the product of the local derivatives, $w^{30}$.
    #| solution
    w = 10 ** (-3 / 30)
    ```

The body is split into sections by lines that are exactly ``#| starter`` (first, once),
``#| check`` (once), ``#| hint`` (one or more, one paragraph of Markdown each, in the page's
language) and ``#| solution`` (once). Registered as a pymdownx.superfences custom fence next to
pycell: ``fence_validator`` checks the ``id`` option, ``fence_format`` parses the body and writes
the HTML. A malformed exercise raises `ExerciseError`, which fails the build naming the exercise.

The HTML works without JavaScript: the starter is a plain code block. The check, the solution and
the hints (rendered to inline HTML) ride along in data attributes, which a browser never shows and
the search index never reads; web/src/exercise.js turns the block into a cell with Check, Hint and
Solution buttons.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

import markdown
from pymdownx.superfences import SuperFencesException

from gradbook.pages.cjk import join_cjk_lines

CSS_CLASS = "pyexercise"
OPTIONS = ("id",)
SECTIONS = ("starter", "check", "hint", "solution")
ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MARKER = re.compile(r"^#\| (?P<name>\w+)[ \t]*\r?$")
# A fence line (up to any indentation, 3+ ` or ~, an info string) and an exercise's info string.
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*?)\s*$")
INFO = re.compile(rf"^\s*{CSS_CLASS}(?:$|[\s{{])")
ID_OPTION = re.compile(r'\bid="([^"]*)"')
# Markdown for one hint: inline code, emphasis and $math$ (typeset by the site's KaTeX).
HINT_EXTENSIONS = ["pymdownx.arithmatex"]
HINT_CONFIG = {"pymdownx.arithmatex": {"generic": True}}


class ExerciseError(SuperFencesException):
    """A pyexercise fence is malformed (fails the build; the message names the exercise)."""


@dataclass
class Exercise:
    """One exercise's parts: code runs as starter (or solution) then check, in one namespace."""

    starter: str
    check: str
    hints: list[str] = field(default_factory=list)
    solution: str = ""


def parse_exercise(body: str, name: str = "pyexercise") -> Exercise:
    """Split a fence body into its sections; raises ExerciseError naming `name` and the problem."""
    sections: list[tuple[str, list[str]]] = []
    for number, line in enumerate(body.splitlines(), start=1):
        m = MARKER.match(line)
        if m is None and line.startswith("#|"):
            raise ExerciseError(
                f"{name}: line {number} {line.strip()!r} is not a section marker "
                f"(write exactly '#| ' and one of {', '.join(SECTIONS)})"
            )
        if m is not None:
            if m["name"] not in SECTIONS:
                raise ExerciseError(
                    f"{name}: line {number}: unknown section {m['name']!r} "
                    f"(known: {', '.join(SECTIONS)})"
                )
            sections.append((m["name"], []))
        elif sections:
            sections[-1][1].append(line)
        elif line.strip():
            raise ExerciseError(f"{name}: line {number}: text before '#| starter'")
    if not sections or sections[0][0] != "starter":
        raise ExerciseError(f"{name}: the body must start with a '#| starter' section")
    texts: dict[str, list[str]] = {s: [] for s in SECTIONS}
    for section, lines in sections:
        text = "\n".join(lines).strip("\n")
        if not text.strip():
            raise ExerciseError(f"{name}: an empty '#| {section}' section")
        texts[section].append(text.strip() if section == "hint" else text + "\n")
    for section in ("starter", "check", "solution"):
        if len(texts[section]) != 1:
            raise ExerciseError(
                f"{name}: needs exactly one '#| {section}' section, found {len(texts[section])}"
            )
        _compile(texts[section][0], f"{name} ({section})")
    if not texts["hint"]:
        raise ExerciseError(f"{name}: needs at least one '#| hint' section")
    for i, hint in enumerate(texts["hint"], start=1):
        if re.search(r"\n[ \t]*\n", hint):
            raise ExerciseError(
                f"{name}: hint {i} has a blank line; a hint is one paragraph (split it in two)"
            )
    return Exercise(
        starter=texts["starter"][0],
        check=texts["check"][0],
        hints=texts["hint"],
        solution=texts["solution"][0],
    )


def exercises_in(markdown_text: str) -> list[tuple[str, str]]:
    """The (id, body) of each ```pyexercise fence of a page, in page order.

    Fences are tracked line by line, CommonMark style (as bench.cells finds pycells): a fence
    closes at a line of the same character at least as long, so an exercise shown inside a longer
    ````markdown fence (a page explaining the format) is not an exercise. A body nested in a list
    loses its list indentation.
    """
    found: list[tuple[str, str]] = []
    opened: tuple[str, int, str | None] | None = None  # (fence, indent, id if an exercise)
    body: list[str] = []
    for line in markdown_text.splitlines(keepends=True):
        m = FENCE.match(line.rstrip("\r\n"))
        if opened is None:
            if m and not (m["fence"][0] == "`" and "`" in m["info"]):
                ident = None
                if INFO.match(m["info"]):
                    option = ID_OPTION.search(m["info"])
                    ident = option[1] if option else ""
                opened = (m["fence"], len(m["indent"]), ident)
                body = []
            continue
        fence, indent, ident = opened
        if m and not m["info"] and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence):
            if ident is not None:
                found.append((ident, "".join(body)))
            opened = None
        elif ident is not None:
            stripped = line.lstrip(" ")
            body.append(line[min(indent, len(line) - len(stripped)) :])
    return found


def manifest(pages: list[tuple[str, str, str]]) -> str:
    """The JSON the home page's progress table reads: each page with exercises, in nav order.

    `pages` holds (title, url relative to the language's home, markdown) per page; the result is
    {"pages": [{"title", "url", "ids"}]}. Progress itself stays in the reader's browser.
    """
    listed = []
    for title, url, text in pages:
        ids = [ident for ident, _ in exercises_in(text)]
        if ids:
            listed.append({"title": title, "url": url, "ids": ids})
    return json.dumps({"pages": listed}, ensure_ascii=False, indent=1) + "\n"


def _compile(source: str, where: str) -> None:
    try:
        compile(source, where, "exec")
    except SyntaxError as err:
        raise ExerciseError(f"{where}: line {err.lineno}: {err.msg}") from None


def render_hint(text: str) -> str:
    """One hint as inline HTML: its paragraph without the <p>; Chinese line breaks joined.

    Raw HTML in a hint is shown as text (the front end inserts the hint as HTML).
    """
    md = markdown.Markdown(extensions=HINT_EXTENSIONS, extension_configs=HINT_CONFIG)
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    html = md.convert(join_cjk_lines(text))
    if html.startswith("<p>") and html.endswith("</p>"):
        html = html[3:-4]
    return html


def fence_validator(
    language: str,
    inputs: dict[str, str],
    options: dict[str, Any],
    attrs: dict[str, Any],
    md: Any,
) -> bool:
    """Require ``id="..."`` (lowercase letters, digits, ``-``); any other option fails the build."""
    for key in inputs:
        if key not in OPTIONS:
            raise ExerciseError(f"pyexercise: unknown option {key!r} (known: {', '.join(OPTIONS)})")
    ident = inputs.get("id", "")
    if not ident:
        raise ExerciseError('pyexercise: the id option is required (```pyexercise id="my-name")')
    if not ID.fullmatch(ident):
        raise ExerciseError(
            f"pyexercise id={ident!r}: an id is lowercase letters, digits and single '-'"
        )
    options["id"] = ident
    return True


def fence_format(
    source: str,
    language: str,
    css_class: str,
    options: dict[str, Any],
    md: Any,
    **kwargs: Any,
) -> str:
    """Render one exercise: a plain code block for the starter, the rest in data attributes."""
    ident = options.get("id", "")
    ex = parse_exercise(source, name=f"pyexercise id={ident!r}")
    hints = json.dumps([render_hint(h) for h in ex.hints], ensure_ascii=False)
    attrs = {
        "data-id": ident,
        "data-check": ex.check,
        "data-solution": ex.solution,
        "data-hints": hints,
    }
    attr_text = "".join(f' {k}="{escape(v, quote=True)}"' for k, v in attrs.items())
    code = escape(ex.starter.rstrip("\n"), quote=False)
    return (
        f'<div class="{CSS_CLASS}" data-language="python"{attr_text}>'
        f'<pre class="pyexercise-starter"><code class="language-python" tabindex="0">{code}\n</code></pre>'
        "</div>"
    )
