"""One figure per language from one data set, as deterministic, font-free SVG.

A chapter hands `render` a `draw(fig, tr)` function. It is called twice on fresh figures: once with
`tr(english, chinese)` returning the English string, once returning the Chinese one, so both figures
show exactly the same data. Text is converted to paths (`svg.fonttype = "path"`), so the reader's
browser needs no font, and the SVG bytes depend only on the data: no dates, no random ids.

House style: a white card (opaque white background, dark-grey text), so a figure reads the same on
the light and the dark site theme; the Okabe-Ito colour-blind-safe palette; sizes chosen to stay
legible when the SVG is shrunk to a phone's width. Latin text and math use DejaVu Sans (ships with
matplotlib); Chinese falls back to Noto Sans SC from `pylopdf_fonts_zh_cn`, registered here.
A glyph missing from both fonts is an error that names the figure and the text, never a tofu box.
Beside each SVG, `render` writes the figure's data as CSV, read back from the drawn figure
(`gradbook.figdata`), so a reader can redraw it in their own tool.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from gradbook.figdata import figure_csv
from gradbook.results import atomic_write_bytes

LANGS = ("en", "zh")
Tr = Callable[[str, str], str]
Draw = Callable[[Any, Tr], None]

# Okabe & Ito (2008), black dropped (it is the text colour) and yellow last (weak on white).
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#7F7F7F",  # grey
    "#F0E442",  # yellow
]
# The same thing gets the same colour in every chapter.
NAMED_COLORS = {
    "sigmoid": PALETTE[0],
    "tanh": PALETTE[1],
    "relu": PALETTE[2],
    "leaky_relu": PALETTE[3],
    "elu": PALETTE[4],
    "softplus": PALETTE[5],
    "plain": PALETTE[6],
    "bn": PALETTE[0],
    "resnet": PALETTE[2],
    "rnn": PALETTE[3],
    "lstm": PALETTE[0],
    "xavier": PALETTE[1],
    "kaiming": PALETTE[2],
}
TEXT_COLOR = "#333333"
GRID_COLOR = "#DDDDDD"
FIGSIZE = (5.6, 3.6)  # inches; at 11 pt text this stays readable at a phone's ~360 px width
LATIN_FONT = "DejaVu Sans"
CJK_FONT = "Noto Sans SC"

STYLE: dict[str, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "gradbook",  # clip-path ids from a fixed salt, not a random one
    "svg.image_inline": True,
    "font.family": [LATIN_FONT, CJK_FONT],
    "font.size": 11,
    "mathtext.fontset": "dejavusans",
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.prop_cycle": None,  # filled in by _style()
    "axes.edgecolor": "#888888",
    "axes.labelcolor": TEXT_COLOR,
    "axes.titlecolor": TEXT_COLOR,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID_COLOR,
    "grid.linewidth": 0.8,
    "xtick.color": "#666666",
    "ytick.color": "#666666",
    "xtick.labelcolor": TEXT_COLOR,
    "ytick.labelcolor": TEXT_COLOR,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "lines.markersize": 5,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "text.color": TEXT_COLOR,
    "figure.figsize": FIGSIZE,
    "figure.constrained_layout.use": True,
}

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_GLYPH_WARNING = re.compile(r"Glyph (\d+) .*missing from font|does not have a glyph for '(.)'")


class FigureError(RuntimeError):
    """A figure that would be wrong on the page: a missing glyph, Chinese text in English, ..."""


def color(name: str, index: int = 0) -> str:
    """The house colour for a named thing (`"relu"`), else the `index`-th palette colour."""
    return NAMED_COLORS.get(name, PALETTE[index % len(PALETTE)])


@cache
def register_fonts() -> str:
    """Register Noto Sans SC with matplotlib's font manager (once); return its family name."""
    from matplotlib import font_manager
    from pylopdf_fonts_zh_cn import sans_path

    font_manager.fontManager.addfont(str(sans_path()))
    return CJK_FONT


def _style() -> dict[str, Any]:
    from cycler import cycler

    return {**STYLE, "axes.prop_cycle": cycler(color=PALETTE)}


def translator(lang: str) -> Tr:
    """`tr(english, chinese)` for one language."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    index = LANGS.index(lang)

    def tr(en: str, zh: str) -> str:
        return (en, zh)[index]

    return tr


class _RaiseOnGlyphLog(logging.Handler):
    """mathtext reports missing glyphs through logging, not warnings; collect them."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if _GLYPH_WARNING.search(msg) or "findfont" in msg:
            self.messages.append(msg)


@contextmanager
def _capture_font_problems() -> Iterator[list[str]]:
    problems: list[str] = []
    handler = _RaiseOnGlyphLog()
    loggers = [logging.getLogger(n) for n in ("matplotlib.mathtext", "matplotlib.font_manager")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield problems
        for w in caught:
            msg = str(w.message)
            if _GLYPH_WARNING.search(msg) or "findfont" in msg:
                problems.append(msg)
            else:  # not ours to judge: pass it on
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    problems.extend(handler.messages)


def _texts(fig: Any) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


@cache
def _covered_codepoints() -> tuple[frozenset[int], frozenset[int]]:
    """Characters the Latin font draws, and those either font draws (SVG paths draw tofu silently)."""
    import matplotlib
    from matplotlib.ft2font import FT2Font
    from pylopdf_fonts_zh_cn import sans_path

    latin_path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    latin = frozenset(FT2Font(str(latin_path)).get_charmap())
    return latin, latin | frozenset(FT2Font(str(sans_path())).get_charmap())


_MATH = re.compile(r"(?<!\\)\$.*?(?<!\\)\$")


def _missing_glyphs(fig: Any) -> list[tuple[str, str]]:
    """Problems for texts holding characters their font cannot draw (math is checked by mathtext).

    A label with `$...$` is drawn entirely by mathtext, whose fonts have no Chinese and no
    fallback: Chinese outside the math in such a label would come out as empty boxes.
    """
    latin, either = _covered_codepoints()
    problems = []
    for text in _texts(fig):
        has_math = text.count("$") >= 2
        plain = _MATH.sub("", text) if has_math else text
        covered, fonts = (
            (latin, f"{LATIN_FONT} (mathtext)")
            if has_math
            else (either, f"{LATIN_FONT}, {CJK_FONT}")
        )
        for char in plain:
            if not char.isspace() and ord(char) not in covered:
                name = char.encode("ascii", "namereplace").decode("ascii")
                problems.append((text, f"Glyph {ord(char)} ({name}) missing from font(s) {fonts}."))
    return problems


def _offending_text(fig: Any, problem: str) -> str:
    m = _GLYPH_WARNING.search(problem)
    if m:
        char = chr(int(m.group(1))) if m.group(1) else m.group(2)
        for text in _texts(fig):
            if char in text:
                return text
    return "?"


def render_svg(
    name: str, draw: Draw, lang: str, figsize: tuple[float, float] | None = None
) -> bytes:
    """Draw one language's figure and return its SVG bytes (nothing is written)."""
    return render_figure(name, draw, lang, figsize)[0]


def render_figure(
    name: str, draw: Draw, lang: str, figsize: tuple[float, float] | None = None
) -> tuple[bytes, bytes]:
    """Draw one language's figure: (its SVG bytes, the CSV of what it plots); nothing is written.

    The CSV is read back from the drawn Figure (`gradbook.figdata`), so it holds exactly what the
    reader sees, with the labels of the language drawn.
    """
    import matplotlib
    from matplotlib.figure import Figure

    register_fonts()
    tr = translator(lang)
    buf = io.BytesIO()
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=figsize or FIGSIZE)
        with _capture_font_problems() as problems:
            draw(fig, tr)
            fig.savefig(
                buf,
                format="svg",
                metadata={"Date": None, "Creator": None, "Title": name, "Language": lang},
            )
        located = _missing_glyphs(fig) + [(_offending_text(fig, p), p) for p in problems]
        data = figure_csv(fig)  # inside the style: "C0" and the like resolve to the house palette
    if located:
        text, problem = located[0]
        raise FigureError(f"figure {name!r} ({lang}): missing glyph in text {text!r}: {problem}")
    if lang == "en":
        chinese = [t for t in _texts(fig) if _CJK.search(t)]
        if chinese:
            raise FigureError(
                f"figure {name!r} (en) contains Chinese text {chinese[0]!r}; "
                "wrap labels in tr('English', '中文')"
            )
    return buf.getvalue(), data


def render(
    name: str,
    draw: Draw,
    out_dir: str | Path,
    figsize: tuple[float, float] | None = None,
    langs: tuple[str, ...] = LANGS,
) -> list[Path]:
    """Write `<name>.<lang>.svg` and its data `<name>.<lang>.csv` per language (atomically).

    Returns the paths, SVGs first. Every language is rendered before anything is written, so a
    failure leaves no half set. `langs` narrows a reader's run to the language its notebook shows
    (half the drawing); the book's figures are drawn in both. The two CSVs hold the same numbers
    (one `draw`), labelled in their language; `figdata.COLUMNS` names the columns in both.
    """
    if not _NAME.match(name):
        raise ValueError(f"figure name {name!r}: use lower-case letters, digits and '_'")
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown or not langs:
        raise ValueError(f"figure {name!r}: languages {langs!r}; expected some of {LANGS}")
    drawn = {lang: render_figure(name, draw, lang, figsize) for lang in langs}
    out = Path(out_dir)
    svgs = [atomic_write_bytes(out / f"{name}.{lang}.svg", drawn[lang][0]) for lang in langs]
    csvs = [atomic_write_bytes(out / f"{name}.{lang}.csv", drawn[lang][1]) for lang in langs]
    return svgs + csvs
