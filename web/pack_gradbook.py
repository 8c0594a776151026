"""Build the gradbook wheel a reader installs to run a chapter notebook (the torch side).

    .venv/bin/python web/pack_gradbook.py --out build/web/dist

`make web` runs this; the site build copies build/web/ into the site, so the wheel is offered at
`assets/web/dist/` beside the notebooks. The wheel is built by PEP 517 (`python -m build`, the
setuptools backend, no isolation: the main venv has both) from a scratch copy of pyproject.toml,
README.md and the package's modules, so no stale `build/lib` or stray file can leak in. It leaves
out `gradbook/lite/`, the browser engine and its data, which ships as its own wheel
(web/pack_lite.py). Fixed file times, modes and SOURCE_DATE_EPOCH make it byte-for-byte
reproducible.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gradbook"
LEFT_OUT = ("lite",)  # subpackages of gradbook the torch-side wheel does not carry
EPOCH = 315532800  # 1980-01-01, the earliest time a zip file can record


def sources() -> list[Path]:
    """The files that go into the wheel's build, relative to the repository root."""
    files = [ROOT / "pyproject.toml", ROOT / "README.md"]
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in LEFT_OUT or "__pycache__" in rel.parts:
            continue
        files.append(path)
    return [p.relative_to(ROOT) for p in files]


def stage(src_dir: Path) -> None:
    """Copy the sources into src_dir with fixed times and modes."""
    for rel in sources():
        dest = src_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, dest)
    for path in [src_dir, *src_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
        os.utime(path, (EPOCH, EPOCH))


def check(wheel: Path) -> None:
    """Fail if the wheel carries a left-out subpackage or anything outside `gradbook/`."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    bad = [
        n
        for n in names
        if not (n.startswith("gradbook/") or ".dist-info/" in n)
        or any(n.startswith(f"gradbook/{sub}/") for sub in LEFT_OUT)
    ]
    if bad:
        raise SystemExit(f"{wheel.name} carries files it must not: {bad[:5]}")


def build_wheel(out_dir: Path) -> Path:
    """Build the wheel into out_dir (replacing older gradbook wheels) and return its path."""
    with tempfile.TemporaryDirectory(prefix="gradbook-wheel-") as tmp:
        src, dist = Path(tmp) / "src", Path(tmp) / "dist"
        stage(src)
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH), PYTHONHASHSEED="0")
        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
        run = subprocess.run([*cmd, str(src)], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"wheel build failed:\n{run.stdout}\n{run.stderr}")
        (built,) = dist.glob("*.whl")
        check(built)
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob("gradbook-*.whl"):
            old.unlink()
        target = out_dir / built.name
        shutil.copyfile(built, target)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="where the wheel goes")
    args = parser.parse_args(argv)
    wheel = build_wheel(args.out)
    print(f"{wheel} ({wheel.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
