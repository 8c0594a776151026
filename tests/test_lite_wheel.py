"""The gradbook-lite wheel: built by web/pack_lite.py, small, reproducible, standard library only."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Packing runs web/pack_lite.py in the Pyodide venv (pyodide-build, Python 3.13); the import check
# below needs only this interpreter, so it stays in `make test-fast`.
needs_pyodide_venv = pytest.mark.pyodide
PYODIDE_PYTHON = ROOT / ".venv-pyodide" / "bin" / "python"
LITE_MODULES = [
    ROOT / "gradbook" / "__init__.py",
    *sorted((ROOT / "gradbook" / "lite").glob("*.py")),
]


def pack(out: Path, *extra: str) -> Path:
    subprocess.run(
        [str(PYODIDE_PYTHON), str(ROOT / "web" / "pack_lite.py"), "--out", str(out), *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = out.glob("gradbook_lite-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return pack(tmp_path_factory.mktemp("wheel"), "--wheel-only")


@needs_pyodide_venv
def test_wheel_holds_only_the_lite_package(wheel: Path) -> None:
    assert wheel.name.endswith("-py3-none-any.whl") and wheel.name.startswith("gradbook_lite-")
    names = zipfile.ZipFile(wheel).namelist()
    package = [n for n in names if not n.startswith("gradbook_lite-")]
    version = wheel.name.split("-")[1]
    assert {n.split("/")[0] for n in names if n not in package} == {
        f"gradbook_lite-{version}.dist-info"
    }
    expected = {p.relative_to(ROOT).as_posix() for p in LITE_MODULES} | {
        "gradbook/lite/digits.json"
    }
    assert set(package) == expected
    assert wheel.stat().st_size < 100_000


@needs_pyodide_venv
def test_wheel_is_byte_reproducible(wheel: Path, tmp_path: Path) -> None:
    again = pack(tmp_path, "--wheel-only")
    assert again.read_bytes() == wheel.read_bytes()


@needs_pyodide_venv
def test_pack_registers_the_wheel_in_a_lock_file(tmp_path: Path) -> None:
    lock = {
        "info": {
            "arch": "wasm32",
            "platform": "emscripten_5_0_3",
            "version": "0.0.0",
            "python": "3.14.2",
        },
        "packages": {
            name: {  # an entry as Pyodide's own lock writes it
                "name": name,
                "version": "1.0",
                "file_name": f"{name}-1.0-py3-none-any.whl",
                "install_dir": "site",
                "sha256": "0" * 64,
                "package_type": "package",
                "imports": [name],
                "depends": [],
                "unvendored_tests": False,
            }
            for name in ("numpy", "shipped")
        },
    }
    (tmp_path / "pyodide-lock.json").write_text(json.dumps(lock))
    (tmp_path / "shipped-1.0-py3-none-any.whl").write_bytes(b"a wheel beside the lock")
    (tmp_path / "gradbook_lite-0.0.0-py3-none-any.whl").write_bytes(b"stale")
    wheel = pack(tmp_path)
    pack(tmp_path)  # a rerun replaces the entry instead of failing
    entry = json.loads((tmp_path / "pyodide-lock.json").read_text())["packages"]["gradbook-lite"]
    assert entry["file_name"] == wheel.name and entry["imports"] == ["gradbook"]
    # only what the directory holds: no entry for a file the site does not ship
    names = json.loads((tmp_path / "pyodide-lock.json").read_text())["packages"]
    assert sorted(names) == ["gradbook-lite", "shipped"]
    assert [p.name for p in tmp_path.glob("gradbook_lite-*.whl")] == [wheel.name]


@pytest.mark.parametrize("module", LITE_MODULES, ids=lambda p: p.name)
def test_lite_imports_only_the_standard_library(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            tops = [node.module.split(".")[0]]
        else:
            continue
        for top in tops:
            assert top in sys.stdlib_module_names or top == "__future__", f"{module.name}: {top}"
