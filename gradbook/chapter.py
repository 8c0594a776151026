"""The runtime a chapter module stands on: config, seeds, quick mode, figures, results.json.

    ch = Chapter.start(__file__)
    ch.results["test_acc"] = {...}
    ch.figure("grad_norms", draw)     # draw(fig, tr)
    ch.finish()

Where the outputs go:
- under `make figures` the runner sets `GRADBOOK_OUT` to a staging directory and swaps it into
  `figures/<slug>/` once the chapter has finished;
- `python chapters_src/02_activations.py` re-executes itself through that same runner
  (`python -m gradbook.build --only 02_activations --force`), so a direct run gives byte-identical
  outputs and updates the manifest exactly like `make figures`;
- anywhere else (a notebook, an import) the outputs go to the scratch directory `build/interactive/`,
  leaving the committed figures alone.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradbook import results as results_io

SLUG = re.compile(r"^(\d{2})_([a-z0-9_]+)$")
RESERVED_KEYS = ("chapter", "seed", "quick", "config")


class ConfigError(ValueError):
    """A chapter's toml is missing or malformed; the message names the chapter and the problem."""


class MissingResultsError(KeyError):
    """`finish()` found keys that the toml's `required_keys` asks for missing from the results."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def is_quick() -> bool:
    """Quick mode (`GRADBOOK_QUICK=1`): fewer steps, same code path."""
    return os.environ.get("GRADBOOK_QUICK", "").strip().lower() in ("1", "true", "yes")


def _merge(base: dict[str, Any], over: dict[str, Any], where: str) -> dict[str, Any]:
    """`base` with `over`'s values; tables merge key by key; unknown keys are typos, so errors."""
    out = dict(base)
    for key, value in over.items():
        if key not in base:
            raise ConfigError(f"{where}{key} sets a key the config does not define")
        if isinstance(value, dict) and isinstance(base[key], dict):
            out[key] = _merge(base[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def _key_paths(raw: Any, slug: str) -> list[list[str]]:
    if not isinstance(raw, list):
        raise ConfigError(f"chapter {slug}: required_keys must be a list, got {raw!r}")
    paths = []
    for item in raw:
        if isinstance(item, str) and item:
            paths.append([item])
        elif isinstance(item, list) and item and all(isinstance(k, str) and k for k in item):
            paths.append(list(item))
        else:
            raise ConfigError(
                f"chapter {slug}: required_keys item {item!r} must be a key string "
                'or a list of key strings like ["chain_grad", "0.2"]'
            )
    return paths


def load_config(toml_path: Path, quick: bool) -> tuple[dict[str, Any], list[list[str]]]:
    """Read `NN_slug.toml`: (config with `[quick]` applied in quick mode, required key paths)."""
    slug = toml_path.stem
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"chapter {slug}: config file {toml_path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"chapter {slug}: {toml_path.name} is not valid TOML: {e}") from None
    if "required_keys" not in raw:
        raise ConfigError(
            f"chapter {slug}: {toml_path.name} has no required_keys list "
            "(the results.json keys BOOK.md asks for)"
        )
    required = _key_paths(raw.pop("required_keys"), slug)
    overrides = raw.pop("quick", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"chapter {slug}: [quick] must be a table, got {overrides!r}")
    try:
        merged = _merge(raw, overrides, "[quick] ")
    except ConfigError as e:
        raise ConfigError(f"chapter {slug}: {toml_path.name}: {e}") from None
    config = merged if quick else raw
    seed = config.setdefault("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"chapter {slug}: seed must be an integer, got {seed!r}")
    return config, required


def seed_everything(seed: int, threads: int, uses_torch: bool) -> None:
    """Seed python, numpy and torch; deterministic kernels; a fixed thread count (same bytes every run)."""
    random.seed(seed)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    import numpy as np

    np.random.seed(seed)
    if uses_torch:
        import torch  # lazily: the build system itself must never import torch

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(threads)
        # settable only once per process, before any parallel work
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(threads)


def _run_as_script(source: Path) -> bool:
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    return main_file is not None and Path(main_file).resolve() == source


def _reexec_through_runner(root: Path, slug: str, quick: bool) -> None:
    """`python chapters_src/X.py`: hand over to `python -m gradbook.build --only X --force`."""
    argv = [sys.executable, "-m", "gradbook.build", "--root", str(root), "--only", slug, "--force"]
    if quick:
        argv.append("--quick")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


class Chapter:
    """One run of one chapter: its config, seed, output directory and results."""

    def __init__(
        self, source: Path, config: dict[str, Any], required: list[list[str]], quick: bool,
        out_dir: Path,
    ) -> None:  # fmt: skip
        self.source = source
        self.root = source.parent.parent
        self.slug = source.stem
        self.config = config
        self.required_keys = required
        self.quick = quick
        self.seed: int = config["seed"]
        self.out_dir = out_dir
        self.results: dict[str, Any] = {}
        self.figures: list[Path] = []
        self._finished = False

    @classmethod
    def start(cls, path: str | os.PathLike[str]) -> Chapter:
        """Begin a chapter run from the chapter module's `__file__`."""
        source = Path(path).resolve()
        slug = source.stem
        if not SLUG.match(slug) or source.parent.name != "chapters_src":
            raise ConfigError(
                f"{source}: a chapter is chapters_src/NN_slug.py (e.g. 02_activations)"
            )
        root = source.parent.parent
        quick = is_quick()
        config, required = load_config(source.with_suffix(".toml"), quick)
        out = os.environ.get("GRADBOOK_OUT")
        if out is None:
            if _run_as_script(source):
                _reexec_through_runner(root, slug, quick)
            out = str(root / "build" / "interactive" / slug)
            print(f"[gradbook] {slug}: not under the runner; outputs go to {out}", file=sys.stderr)
        else:
            from gradbook.build.failure import install_excepthook

            install_excepthook(source)
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        threads = config.get("threads", 1)
        seed_everything(config["seed"], threads, config.get("uses_torch", True))
        return cls(source, config, required, quick, out_dir)

    def figure(
        self,
        name: str,
        draw: Callable[[Any, Callable[[str, str], str]], None],
        figsize: tuple[float, float] | None = None,
    ) -> list[Path]:
        """Draw `name.en.svg` and `name.zh.svg` from one `draw(fig, tr)`; see `gradbook.plot`."""
        from gradbook import plot  # matplotlib only when a figure is drawn

        self._check_open()
        if any(p.name.startswith(f"{name}.") for p in self.figures):
            raise ValueError(f"chapter {self.slug}: figure {name!r} drawn twice")
        paths = plot.render(name, draw, self.out_dir, figsize=figsize)
        self.figures.extend(paths)
        return paths

    def finish(self) -> Path:
        """Write results.json (chapter, seed, quick, config, then the chapter's keys) and check it."""
        self._check_open()
        clash = [k for k in RESERVED_KEYS if k in self.results]
        if clash:
            raise ValueError(f"chapter {self.slug}: results keys {clash} are reserved")
        doc = {
            "chapter": self.slug,
            "seed": self.seed,
            "quick": self.quick,
            "config": self.config,
            **self.results,
        }
        doc = results_io.to_jsonable(doc)
        missing = [p for p in self.required_keys if not results_io.has_path(doc, p)]
        if missing:
            names = ", ".join("/".join(p) for p in missing)
            raise MissingResultsError(
                f"chapter {self.slug}: results miss required keys: {names} "
                f"(listed in required_keys of {self.slug}.toml)"
            )
        path = results_io.atomic_write_text(self.out_dir / "results.json", results_io.dumps(doc))
        self._finished = True
        return path

    def _check_open(self) -> None:
        if self._finished:
            raise RuntimeError(f"chapter {self.slug}: finish() was already called")
