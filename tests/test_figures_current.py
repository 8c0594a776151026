"""The committed figures are current for their sources (hash check only, no training).

Fails until `make figures` has been run and figures/ (with manifest.json) committed; that is the
point: a changed chapter, config or gradbook module without rebuilt figures must not go unnoticed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_committed_figures_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gradbook.build", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
