"""`python web/subset_font.py --out build/web/fonts`: Noto Sans SC cut to the glyphs the book uses.

Readers without a Chinese system font (many Linux desktops, some e-readers) would see boxes on the
Chinese pages. The book ships Noto Sans SC (SIL OFL 1.1, from the `pylopdf-fonts-zh-cn` package the
figures already use), subset to the CJK characters that can appear on a page: the Chinese pages,
the Chinese config, the theme, the site's and the cells' scripts, gradbook's own messages (a cell's
output), the chapter modules (source pages) and Material's Chinese UI strings, plus every CJK
punctuation mark and full-width form. `web/site/extra.css` declares it with a CJK `unicode-range`
and lists it last in the font stacks, so a reader with a system CJK font never downloads it.
`tests/test_fonts.py` checks that every CJK character of the built Chinese pages is in the subset.

The font has one weight (Regular): bold Chinese is the browser's synthetic bold.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FONT_FILE = "NotoSansSC-gradbook.woff2"  # web/site/extra.css names it: ../fonts/<this>
LICENSE_FILE = "NotoSansSC-OFL.txt"
# The code points the @font-face covers (its unicode-range in web/site/extra.css, same list):
# CJK radicals, punctuation, kana, bopomofo, enclosed, compatibility, unified ideographs and
# extension A, compatibility ideographs, vertical and small forms, full-width forms.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3040, 0x30FF),
    (0x3100, 0x312F),
    (0x3190, 0x31FF),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
)
# Always in the subset, whatever the pages say today: CJK punctuation and the full-width forms.
FIXED = (*range(0x3000, 0x3040), *range(0xFF01, 0xFF66))
# Where the text of a Chinese page comes from (globs under the repository root).
SOURCES = (
    "docs/zh/**/*.md",
    "mkdocs.yml",  # the language switcher's 中文, on every page
    "mkdocs.zh.yml",
    "gradbook/**/*.py",
    "gradbook/pages/theme/**/*.html",
    "chapters_src/*.py",
    "web/src/**/*.js",
    "web/src/**/*.py",
    "web/site/**/*.js",
)


def is_cjk(char: str) -> bool:
    """True for a character inside the font's unicode-range."""
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in CJK_RANGES)


def unicode_range() -> str:
    """CJK_RANGES as a CSS unicode-range value (web/site/extra.css holds this text)."""
    return ", ".join(f"U+{lo:04X}-{hi:04X}" for lo, hi in CJK_RANGES)


def cjk_chars(text: str) -> set[str]:
    """The CJK characters of text."""
    return {ch for ch in set(text) if is_cjk(ch)}


def material_zh_strings() -> Path:
    """Material's Chinese UI strings (search, navigation, copy buttons)."""
    import material

    return Path(material.__file__).parent / "templates" / "partials" / "languages" / "zh.html"


def source_files(repo: Path = REPO) -> list[Path]:
    """Every file whose text can reach a Chinese page, Material's strings included."""
    found = {p for pattern in SOURCES for p in repo.glob(pattern) if p.is_file()}
    return [*sorted(found), material_zh_strings()]


def collect(paths: Iterable[Path]) -> set[str]:
    """The CJK characters of the given files, plus the fixed punctuation set."""
    chars = {chr(c) for c in FIXED}
    for path in paths:
        chars |= cjk_chars(path.read_text(encoding="utf-8", errors="replace"))
    return chars


def subset(font: Path, chars: set[str], out: Path) -> int:
    """Write the WOFF2 subset of font holding chars (those it has) to out; return its size."""
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    options = ft_subset.Options()
    options.flavor = "woff2"
    options.hinting = False  # CFF hints do little at screen sizes and cost bytes
    options.desubroutinize = True  # smaller after Brotli
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and license records
    ttf = TTFont(font, recalcTimestamp=False)  # the same bytes on every build
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in chars})
    subsetter.subset(ttf)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    os.close(fd)
    try:
        ft_subset.save_font(ttf, tmp, options)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out.stat().st_size


def font_license() -> Path | None:
    """The OFL text shipped with the font package (the license travels with the font)."""
    from importlib import metadata

    files = metadata.files("pylopdf-fonts-zh-cn") or []
    found = [Path(str(f.locate())) for f in files if f.name == "LICENSE"]
    return found[0] if found and found[0].is_file() else None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python web/subset_font.py", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "web" / "fonts")
    args = parser.parse_args()
    from pylopdf_fonts_zh_cn import sans_path

    font = sans_path()
    if not font.is_file():
        print(f"error: {font} is missing: pip install -r requirements.txt", file=sys.stderr)
        return 1
    chars = collect(source_files())
    size = subset(font, chars, args.out / FONT_FILE)
    license_src = font_license()
    if license_src is not None:
        shutil.copyfile(license_src, args.out / LICENSE_FILE)
    print(f"wrote {args.out / FONT_FILE}: {len(chars)} characters, {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
