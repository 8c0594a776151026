"""A chapter's inputs and their hashes, found without importing anything.

Inputs are the chapter module, its toml and every `gradbook` module it imports, transitively
(imports anywhere in a file count, lazy ones inside functions too). They are found by reading the
import statements with `ast`, so neither torch nor the chapters are ever imported. `gradbook.build`
is not an input: it decides when chapters run, not what they compute.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

PACKAGE = "gradbook"
NOT_INPUTS = ("gradbook.build",)


def file_hash(path: Path) -> str:
    """sha256 of the file's bytes."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def module_file(root: Path, name: str) -> Path | None:
    """The file of a `gradbook...` module under `root`, or None if there is none."""
    parts = name.split(".")
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_ours(name: str) -> bool:
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return False
    return not any(name == x or name.startswith(x + ".") for x in NOT_INPUTS)


def _imports(path: Path, package: str | None) -> set[str]:
    """Module names imported by the file at `path`; `package` resolves its relative imports."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return set()  # the chapter will fail loudly when it runs; its bytes are still hashed
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                base = package.split(".")
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # maybe submodules
    return names


def _with_parents(name: str) -> list[str]:
    """Importing a.b.c runs a/__init__.py and a/b/__init__.py too."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def chapter_inputs(root: Path, source: Path, config: Path) -> list[Path]:
    """The chapter module, its toml and the gradbook modules it imports, transitively."""
    found: dict[str, Path] = {}
    todo = [(source, None)]
    while todo:
        path, package = todo.pop()
        for name in _imports(path, package):
            for mod in _with_parents(name):
                if mod in found or not _is_ours(mod):
                    continue
                file = module_file(root, mod)
                if file is None:
                    continue  # an attribute imported from a package, not a module
                found[mod] = file
                pkg = mod if file.name == "__init__.py" else mod.rpartition(".")[0]
                todo.append((file, pkg))
    return [source, config, *sorted(found.values())]


def input_hashes(root: Path, source: Path, config: Path) -> dict[str, str]:
    """`{path relative to root: hash}` of a chapter's inputs; a missing file hashes to "missing"."""
    out = {}
    for path in chapter_inputs(root, source, config):
        rel = path.relative_to(root).as_posix()
        out[rel] = file_hash(path) if path.is_file() else "missing"
    return dict(sorted(out.items()))
