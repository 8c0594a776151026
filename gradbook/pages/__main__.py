"""`python -m gradbook.pages [--out site]`: build the English site, then the Chinese one inside it.

Two plain `mkdocs build --strict` runs, in order: mkdocs.yml into OUT (cleaned first), then
mkdocs.zh.yml into OUT/zh. The Chinese pages link to the English build's shared assets, so the
order matters and one command owns it (make site, the tests and the bench all call this).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECTS = (("en", "mkdocs.yml", ""), ("zh", "mkdocs.zh.yml", "zh"))


def build(out: Path, *, root: Path = REPO, quiet: bool = False) -> dict[str, float]:
    """Build every language of the book at root into out; return the seconds each took.

    Raises RuntimeError on a failed build (with mkdocs' output when quiet).
    """
    mkdocs = Path(sys.executable).with_name("mkdocs")
    seconds: dict[str, float] = {}
    for lang, config, subdir in PROJECTS:
        start = time.perf_counter()
        cmd = [str(mkdocs), "build", "--strict", "--clean", "-f", config, "-d", str(out / subdir)]
        proc = subprocess.run(cmd, cwd=root, capture_output=quiet, text=True)
        if proc.returncode != 0:
            detail = f"\n{proc.stdout}\n{proc.stderr}" if quiet else ""
            raise RuntimeError(f"the {lang} site failed to build ({config}){detail}")
        seconds[lang] = time.perf_counter() - start
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m gradbook.pages", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "site", help="default: site/")
    parser.add_argument("--root", type=Path, default=REPO, help="the book (default: this one)")
    args = parser.parse_args()
    try:
        seconds = build(args.out.resolve(), root=args.root.resolve())
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("built " + ", ".join(f"{lang} in {s:.1f} s" for lang, s in seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
