"""`python -m bench` (`make bench`): measure, print the table, write bench/results-<date>.json.

python -m bench                      # everything, 3 repetitions
python -m bench --only site,browser  # some groups
python -m bench --only tests         # `make test`, timed once
python -m bench --reps 5 --quick     # quick-mode figures (same code path, fewer steps)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.measure import Measure

GROUPS = ("figures", "site", "browser", "probes", "tests")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=3, help="repetitions of each measure (default 3)")
    p.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated groups: {','.join(GROUPS)}"
    )
    p.add_argument(
        "--clean-reps", type=int, help="repetitions of the clean figure build (default --reps)"
    )
    p.add_argument(
        "--quick", action="store_true", help="figures in quick mode (for trying the bench)"
    )
    p.add_argument(
        "--touch", help="chapter to edit for the one-chapter rebuild (default: the first)"
    )
    p.add_argument(
        "--site", type=Path, help="browser group: use this built site instead of building"
    )
    p.add_argument("--out", type=Path, default=report.BENCH_DIR, help="where the JSON goes")
    args = p.parse_args(argv)
    args.groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(args.groups) - set(GROUPS)
    if unknown:
        p.error(f"unknown group(s) {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    if args.reps < 1:
        p.error("--reps must be at least 1")
    return args


def measure(args: argparse.Namespace, work: Path) -> list[Measure]:
    """Run the selected groups in order: figures, site, browser, probes, tests."""
    out: list[Measure] = []
    site_dir = args.site
    for group in GROUPS:
        if group not in args.groups:
            continue
        print(f"[bench] {group} ...", file=sys.stderr, flush=True)
        if group == "figures":
            from bench import figures

            reps = args.clean_reps or args.reps
            out += figures.run(reps, quick=args.quick, touch_slug=args.touch)
        elif group == "site":
            from bench import site

            measures, built = site.run(args.reps, work)
            site_dir = site_dir or built
            out += measures
        elif group == "browser":
            from bench import browser, site

            if site_dir is None:
                site_dir = work / "site"
                site.mkdocs_build(site_dir)
            out += browser.run(args.reps, site_dir)
        elif group == "probes":
            from bench import probes

            out += probes.run(args.reps)
        elif group == "tests":
            from bench import tests

            out += tests.run()  # once: the suite takes minutes
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    env = report.environment()
    with tempfile.TemporaryDirectory(prefix="gradbook-bench-") as tmp:
        measures = measure(args, Path(tmp))
    doc = report.document(measures, args.reps, started, env)
    paths = report.write(doc, args.out)
    print(f"gradbook benchmarks, {doc['date']} (commit {env['commit']}, {args.reps} reps, "
          f"load {env['load_avg_1m']:.1f} -> {doc['environment']['load_avg_1m_end']:.1f})")  # fmt: skip
    print(report.text_table(doc["results"]))
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
