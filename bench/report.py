"""Print measures as a table against their targets and keep them as JSON (`bench/*.json`)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import Measure

BENCH_DIR = Path(__file__).resolve().parent
COLUMNS = ("measure", "median", "min", "max", "target", "status")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:.2f} MB"
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    return f"{value:g} {unit}"


def _status(met: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: ""}[met]


def rows(results: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row of cells per measure (JSON form, so saved results print the same way)."""
    out = []
    for m in results:
        unit = m["unit"]
        label = m["label"] + (f" ({m['note']})" if m.get("note") else "")
        out.append(
            (
                label,
                _fmt(m["median"], unit),
                _fmt(m["min"], unit),
                _fmt(m["max"], unit),
                "" if m["target"] is None else "<= " + _fmt(m["target"], unit),
                _status(m["met"]),
            )
        )
    return out


def text_table(results: list[dict[str, Any]]) -> str:
    """A fixed-width table for the terminal."""
    body = rows(results)
    widths = [max(len(r[i]) for r in [COLUMNS, *body]) for i in range(len(COLUMNS))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(COLUMNS), line(tuple("-" * w for w in widths)), *map(line, body)])


def markdown_table(results: list[dict[str, Any]]) -> str:
    """The same table in Markdown, for the README and the docs page."""
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += ["| " + " | ".join(r) + " |" for r in rows(results)]
    return "\n".join(out)


def environment() -> dict[str, Any]:
    """What the numbers depend on: code version, interpreter, cores, how busy the machine was."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return {
        "commit": commit,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
    }


def document(measures: list[Measure], reps: int, started: datetime, env: dict[str, Any]) -> dict:
    """The JSON document of one bench run."""
    return {
        "date": started.strftime("%Y-%m-%d"),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "reps": reps,
        "environment": {**env, "load_avg_1m_end": os.getloadavg()[0]},
        "results": [m.to_json() for m in measures],
    }


def write(doc: dict, out_dir: Path = BENCH_DIR) -> list[Path]:
    """Write `results-<date>.json` and `latest.json`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    paths = [out_dir / f"results-{doc['date']}.json", out_dir / "latest.json"]
    for p in paths:
        p.write_text(text, encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.report [FILE] [--markdown]`: print saved results again."""
    args = sys.argv[1:] if argv is None else argv
    markdown = "--markdown" in args
    files = [a for a in args if not a.startswith("--")] or [str(BENCH_DIR / "latest.json")]
    doc = json.loads(Path(files[0]).read_text(encoding="utf-8"))
    print(f"gradbook benchmarks, {doc['date']} (commit {doc['environment'].get('commit', '?')})")
    table = markdown_table if markdown else text_table
    print(table(doc["results"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
