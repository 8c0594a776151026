"""Find the chapters: `chapters_src/NN_slug.py`, each with its `NN_slug.toml`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CHAPTER_FILE = re.compile(r"^(\d{2})_([a-z0-9_]+)\.py$")


@dataclass(frozen=True)
class ChapterSource:
    """A chapter module and its config, by slug (`02_activations`)."""

    slug: str
    source: Path
    config: Path


def discover(root: Path) -> list[ChapterSource]:
    """All chapters under `root/chapters_src`, in book order."""
    found = []
    for path in sorted((root / "chapters_src").glob("*.py")):
        if CHAPTER_FILE.match(path.name):
            found.append(ChapterSource(path.stem, path, path.with_suffix(".toml")))
    return found


def select(chapters: list[ChapterSource], only: list[str]) -> list[ChapterSource]:
    """The chapters named by `--only`: a full slug, its number (`02`) or its name (`activations`)."""
    if not only:
        return chapters
    picked: list[ChapterSource] = []
    for want in only:
        hits = [c for c in chapters if want in (c.slug, c.slug[:2], c.slug[3:])]
        if not hits:
            known = ", ".join(c.slug for c in chapters) or "none"
            raise SystemExit(f"--only {want}: no such chapter (chapters: {known})")
        picked.extend(h for h in hits if h not in picked)
    return [c for c in chapters if c in picked]
