"""``{{ slug:path/to/key | fmt }}`` inserts a measured number from the chapter's results.json.

Every number the prose quotes comes from ``figures/slug/results.json``, written by the chapter that
measured it, so the text can never drift from the experiment. The path walks the JSON with
``gradbook.results.get_path``: parts are separated by ``/``, dictionary keys are taken as written,
integers index lists (``-1`` is the last item). After ``|`` comes a Python format spec (``.1%``,
``.2e``, ``,d``) or the book's ``.Nsci``: N significant digits times a power of ten, written as a
reader writes it (``6.2 × 10⁻⁶``; plain digits when the exponent is 0). Negative numbers get a
true minus sign (−1.47). Code blocks and inline code are left untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gradbook.pages.prose import map_prose
from gradbook.results import get_path

NUMBER = re.compile(r"\{\{\s*(?P<slug>[\w-]+):(?P<path>[^|}]+?)\s*(?:\|\s*(?P<fmt>[^}]*?)\s*)?\}\}")


SCI = re.compile(r"\.(?P<digits>\d+)sci")
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MINUS = "\u2212"  # the minus sign typography uses, not the hyphen


def format_value(value: Any, fmt: str) -> str:
    """``format(value, fmt)``, plus ``.Nsci`` for ``6.2 × 10⁻⁶``; numbers get a true minus (−)."""
    m = SCI.fullmatch(fmt)
    if m is None:
        text = format(value, fmt)
    else:
        mantissa, exponent = f"{float(value):.{max(int(m['digits']) - 1, 0)}e}".split("e")
        power = int(exponent)
        text = mantissa if power == 0 else f"{mantissa} × 10{str(power).translate(SUPERSCRIPT)}"
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return text.replace("-", MINUS) if is_number else text


class BadNumber(LookupError):
    """A page asks for a number that results.json does not hold, or cannot format it."""


def render_numbers(markdown: str, *, src_uri: str, results: Callable[[str], Any]) -> str:
    """Replace every ``{{ slug:path | fmt }}`` in the prose; ``results(slug)`` loads a chapter's."""

    def replace(m: re.Match[str]) -> str:
        slug, path, fmt = m["slug"], m["path"].strip(), m["fmt"] or ""
        where = f"{src_uri}: {{{{ {slug}:{path} }}}}"
        try:
            data = results(slug)
        except FileNotFoundError:
            raise BadNumber(f"{where}: figures/{slug}/results.json does not exist") from None
        try:
            value = get_path(data, path.strip("/").split("/"))
        except (KeyError, IndexError, ValueError):
            raise BadNumber(
                f"{where}: no value at {path!r} in figures/{slug}/results.json"
            ) from None
        if isinstance(value, dict | list):
            raise BadNumber(f"{where}: is a {type(value).__name__}, not a number or string")
        try:
            return format_value(value, fmt)
        except (ValueError, TypeError) as err:
            raise BadNumber(f"{where}: cannot format {value!r} with {fmt!r}: {err}") from None

    return map_prose(markdown, lambda text: NUMBER.sub(replace, text))
