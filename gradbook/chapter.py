"""The runtime a chapter module stands on: config, seeds, quick mode, figures, results.json.

    ch = Chapter.start(__file__)      # or Chapter.start("02_activations") where there is no __file__
    ch.results["test_acc"] = {...}
    ch.figure("grad_norms", draw)     # draw(fig, tr)
    ch.finish()                       # results.json and provenance.json

A run is told three things on its command line, and nothing else: `--out DIR` (where to write),
`--quick` (apply the toml's `[quick]` table) and `--lang en|zh` (draw the figures in that language
only: a reader's run, whose notebook shows one language; the book's figures are always both).
`make figures` passes the first two to each chapter process (a staging folder it later swaps into
`figures/<slug>/`); `python chapters_src/02_activations.py [--quick] [--out DIR] [--lang zh]` is the
same run by hand. Without `--out` the outputs go to the scratch folder `build/interactive/<slug>/`,
so a direct run, a notebook or an import never touches the committed figures. Unknown arguments
(a notebook kernel's `-f kernel.json`) are ignored. This module knows nothing of the build tool: it
neither imports nor re-enters it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradbook import results as results_io
from gradbook.plot import LANGS  # no matplotlib: gradbook.plot imports it when it draws

SLUG = re.compile(r"^(\d{2})_([a-z0-9_]+)$")
RESERVED_KEYS = ("chapter", "seed", "quick", "config")
PROVENANCE = "provenance.json"  # beside results.json: see Chapter.provenance


class ConfigError(ValueError):
    """A chapter's toml is missing or malformed; the message names the chapter and the problem."""


class MissingResultsError(KeyError):
    """`finish()` found keys that the toml's `required_keys` asks for missing from the results."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def parse_run_args(argv: list[str] | None = None) -> argparse.Namespace:
    """`--out DIR`, `--quick` and `--lang` from a chapter's command line (default `sys.argv[1:]`).

    Tolerant: a host's own arguments (a notebook kernel's `-f kernel.json`) are left alone, and only
    the exact spellings count (no abbreviations that a host's flags could match by accident).
    """
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lang", choices=LANGS, default=None)
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return args


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
    """Seed python, numpy and torch; deterministic kernels; `threads` threads everywhere.

    The toml's `threads` is the one place the thread count is set. The chapter module has usually
    imported torch and numpy already, so their thread pools are limited at run time (threadpoolctl,
    torch.set_num_threads); the variables cover libraries loaded later and child processes.
    """
    random.seed(seed)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    import numpy as np
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    np.random.seed(seed)
    if uses_torch:
        import torch  # lazily: a chapter may set uses_torch = false and never load it

        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(threads)
        # settable only once per process, before any parallel work
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(threads)
    threadpool_limits(limits=threads)  # BLAS and OpenMP pools already loaded (numpy's OpenBLAS)


def library_versions() -> dict[str, str | None]:
    """Python and the libraries that compute and draw the figures (torch None if not loaded)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(dist: str) -> str | None:
        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    torch = sys.modules.get("torch")  # a chapter with uses_torch = false never loads it
    return {
        "python": platform.python_version(),
        "torch": getattr(torch, "__version__", None) if torch else None,
        "numpy": installed("numpy"),
        "matplotlib": installed("matplotlib"),
    }


_HERE = Path(__file__).resolve().parent.parent  # the checkout gradbook was imported from


def locate(where: str | os.PathLike[str]) -> Path:
    """The toml of a chapter: beside the module named by `where` (`__file__`), or found by slug.

    A notebook has no `__file__`; `Chapter.start("02_activations")` looks for `02_activations.toml`
    in the working directory, in its `chapters_src/`, then in this checkout's `chapters_src/`.
    """
    text = os.fspath(where)
    if SLUG.match(text):
        places = [Path.cwd(), Path.cwd() / "chapters_src", _HERE / "chapters_src"]
        for place in places:
            if (place / f"{text}.toml").is_file():
                return (place / f"{text}.toml").resolve()
        looked = ", ".join(str(p) for p in dict.fromkeys(places))
        raise ConfigError(f"chapter {text}: no {text}.toml in {looked}")
    source = Path(text).resolve()
    if not SLUG.match(source.stem):
        raise ConfigError(f"{source}: a chapter module is named NN_slug.py (e.g. 02_activations)")
    return source.with_suffix(".toml")


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it lies inside it."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


class Chapter:
    """One run of one chapter: its config, seed, output directory and results."""

    def __init__(
        self, source: Path, config: dict[str, Any], required: list[list[str]], quick: bool,
        out_dir: Path, langs: tuple[str, ...] = LANGS,
    ) -> None:  # fmt: skip
        self.source = source
        self.slug = source.stem
        self.config = config
        self.required_keys = required
        self.quick = quick
        self.seed: int = config["seed"]
        self.out_dir = out_dir
        self.langs = langs  # the languages its figures are drawn in
        self.results: dict[str, Any] = {}
        self.figures: list[Path] = []
        self._finished = False

    @classmethod
    def start(cls, where: str | os.PathLike[str], argv: list[str] | None = None) -> Chapter:
        """Begin a run of the chapter at `where` (its `__file__`, or its slug in a notebook).

        `argv` (default: the command line) may hold `--out DIR`, `--quick` and `--lang`; see the
        module doc.
        """
        toml = locate(where)
        source = toml.with_suffix(".py")
        slug = toml.stem
        args = parse_run_args(argv)
        config, required = load_config(toml, args.quick)
        root = toml.parent.parent if toml.parent.name == "chapters_src" else toml.parent
        out_dir = (args.out or root / "build" / "interactive" / slug).resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        seed_everything(config["seed"], config.get("threads", 1), config.get("uses_torch", True))
        langs = (args.lang,) if args.lang else LANGS
        return cls(source, config, required, args.quick, out_dir, langs)

    def figure(
        self,
        name: str,
        draw: Callable[[Any, Callable[[str, str], str]], None],
        figsize: tuple[float, float] | None = None,
    ) -> list[Path]:
        """Draw `name.<lang>.svg` and its data `name.<lang>.csv` from one `draw(fig, tr)`, in each
        of the run's languages.

        See `gradbook.plot` (the SVGs) and `gradbook.figdata` (the CSVs).
        """
        from gradbook import plot  # matplotlib only when a figure is drawn

        self._check_open()
        if any(p.name.startswith(f"{name}.") for p in self.figures):
            raise ValueError(f"chapter {self.slug}: figure {name!r} drawn twice")
        paths = plot.render(name, draw, self.out_dir, figsize=figsize, langs=self.langs)
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
        results_io.atomic_write_text(
            self.out_dir / PROVENANCE, results_io.dumps(results_io.to_jsonable(self.provenance()))
        )
        path = results_io.atomic_write_text(self.out_dir / "results.json", results_io.dumps(doc))
        self._finished = True
        mode = "quick" if self.quick else "full"
        print(f"[gradbook] {self.slug} ({mode}): results.json and {len(self.figures)} figure files "
              f"in {_shown(self.out_dir)}")  # fmt: skip
        return path

    def provenance(self) -> dict[str, Any]:
        """Where this run's figures come from: seeds, config, library versions, the files.

        Only what is the same on every run of the same inputs on this machine, so the file is as
        byte-reproducible as the figures; the build adds the date and the commit to the manifest.
        """
        figures: dict[str, dict[str, dict[str, str]]] = {}
        for path in self.figures:
            name, lang, ext = path.name.rsplit(".", 2)
            figures.setdefault(name, {}).setdefault(ext, {})[lang] = path.name
        return {
            "chapter": self.slug,
            "source": f"chapters_src/{self.source.name}",
            "quick": self.quick,
            "seed": self.seed,
            "seeds": self.config.get("seeds"),
            "config": self.config,
            "versions": library_versions(),
            "figures": figures,
        }

    def _check_open(self) -> None:
        if self._finished:
            raise RuntimeError(f"chapter {self.slug}: finish() was already called")
