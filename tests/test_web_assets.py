"""The site plugin refuses to build without `make web`, naming the fix (a real mkdocs build)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MKDOCS = Path(sys.executable).with_name("mkdocs")


def test_a_build_without_the_web_bundle_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Hello\n")
    (tmp_path / "figures").mkdir()
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: tiny\ntheme:\n  name: material\n  font: false\n"
        "plugins:\n  gradbook:\n    web_dir: build/web\n"
    )
    proc = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "run `make web`" in proc.stderr and "cells/cells.js" in proc.stderr
