"""Build the gradbook-lite wheel and register it in the self-hosted pyodide-lock.json.

    .venv-pyodide/bin/python web/pack_lite.py --out build/web/pyodide [--wheel-only]

The wheel holds only `gradbook/__init__.py` and `gradbook/lite/` (the pure-Python engine the
browser cells import), built by PEP 517 (`python -m build`, setuptools backend) from a scratch copy
with a generated pyproject.toml, so nothing else from the repository can leak into it. Fixed file
times, modes and SOURCE_DATE_EPOCH make it byte-for-byte reproducible. Then
`pyodide lockfile add-wheels` adds it to the lock file `npm run build` copied from Pyodide, so
`pyodide.loadPackage("gradbook-lite")` finds it.

The lock keeps only the packages whose files are beside it: Pyodide's npm package lists its 358
packages but holds none of them, and the site ships only gradbook-lite. The full list was 0.12 MB
every first Run downloads and parses, and it named files the site does not have: a reader's
`loadPackage("numpy")` tried to fetch one; now it says at once that no such package is known.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gradbook"
DIST_NAME = "gradbook-lite"
EPOCH = 315532800  # 1980-01-01, the earliest time a zip file can record
DATA_SUFFIXES = (".py", ".json")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "gradbook.lite: the pure-Python autodiff engine behind gradbook's in-browser cells"
requires-python = ">=3.11"
license = "MIT"

[tool.setuptools]
packages = ["gradbook", "gradbook.lite"]
include-package-data = false

[tool.setuptools.package-data]
"gradbook.lite" = ["*.json"]
"""


def lite_version() -> str:
    """`__version__` of gradbook/lite/__init__.py, read without importing it."""
    tree = ast.parse((PACKAGE / "lite" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit("gradbook/lite/__init__.py has no __version__")


def lite_sources() -> list[Path]:
    """The files that go into the wheel, relative to the repository root."""
    files = [PACKAGE / "__init__.py"]
    files += sorted(
        p
        for p in (PACKAGE / "lite").iterdir()
        if p.is_file() and p.suffix in DATA_SUFFIXES and not p.name.startswith(".")
    )
    return [p.relative_to(ROOT) for p in files]


def stage(src_dir: Path, version: str) -> None:
    """Copy the sources into src_dir with fixed times and modes, plus the generated pyproject."""
    for rel in lite_sources():
        dest = src_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, dest)
    (src_dir / "pyproject.toml").write_text(
        PYPROJECT.format(name=DIST_NAME, version=version), encoding="utf-8"
    )
    for path in [src_dir, *src_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
        os.utime(path, (EPOCH, EPOCH))


def build_wheel(out_dir: Path) -> Path:
    """Build the wheel into out_dir (replacing older gradbook_lite wheels) and return its path."""
    version = lite_version()
    with tempfile.TemporaryDirectory(prefix="gradbook-lite-") as tmp:
        src, dist = Path(tmp) / "src", Path(tmp) / "dist"
        stage(src, version)
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), PYTHONHASHSEED="0")
        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
        run = subprocess.run([*cmd, str(src)], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"wheel build failed:\n{run.stdout}\n{run.stderr}")
        (built,) = dist.glob("*.whl")
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob("gradbook_lite-*.whl"):
            old.unlink()
        target = out_dir / built.name
        shutil.copyfile(built, target)
    return target


def register(wheel: Path, lock_path: Path) -> None:
    """Add (or replace) the wheel's entry in lock_path with `pyodide lockfile add-wheels`."""
    if not lock_path.exists():
        raise SystemExit(
            f"{lock_path} does not exist: run `npm run build` in web/ first (make web does)"
        )
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    lock["packages"].pop(DIST_NAME, None)  # idempotent: a rerun replaces the old entry
    here = lock_path.parent
    lock["packages"] = {
        name: entry
        for name, entry in lock["packages"].items()
        if (here / entry["file_name"]).is_file()
    }
    pyodide_cli = Path(sys.executable).with_name("pyodide")
    with tempfile.TemporaryDirectory(prefix="gradbook-lock-") as tmp:
        source = Path(tmp) / "pyodide-lock.json"
        source.write_text(json.dumps(lock), encoding="utf-8")
        cmd = [str(pyodide_cli), "lockfile", "add-wheels", "--input", str(source)]
        cmd += ["--output", str(lock_path), "--base-path", str(wheel.parent), str(wheel)]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"pyodide lockfile add-wheels failed:\n{run.stdout}\n{run.stderr}")
    entry = json.loads(lock_path.read_text(encoding="utf-8"))["packages"].get(DIST_NAME)
    if not entry or entry["file_name"] != wheel.name:
        raise SystemExit(f"{lock_path} has no entry for {wheel.name} after add-wheels")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the self-hosted Pyodide directory")
    parser.add_argument(
        "--wheel-only", action="store_true", help="build the wheel, leave the lock file alone"
    )
    args = parser.parse_args(argv)
    wheel = build_wheel(args.out)
    if not args.wheel_only:
        register(wheel, args.out / "pyodide-lock.json")
    print(f"{wheel} ({wheel.stat().st_size} bytes)" + ("" if args.wheel_only else ", registered"))


if __name__ == "__main__":
    main()
