"""Where the build writes, spelled once: the Makefile, bench and tests ask here or take the default."""

from __future__ import annotations

from pathlib import Path

FIGURES = Path("figures")  # committed: full runs only
QUICK = Path("build") / "figures-quick"  # quick runs: scratch, never committed
LOGS = Path("build") / "logs"  # one log per chapter and mode: <mode>/<slug>.log


def mode(quick: bool) -> str:
    """The name of a run's mode, as the manifest and the log folders spell it."""
    return "quick" if quick else "full"


def default_out(root: Path, quick: bool) -> Path:
    """The output root of a build of `root` when no `--out` is given."""
    return root / (QUICK if quick else FIGURES)


def logs(root: Path, quick: bool) -> Path:
    """The folder of a mode's chapter logs."""
    return root / LOGS / mode(quick)
