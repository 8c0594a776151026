"""A chapter run from a downloaded notebook (or its `.py` twin), outside the book's repository.

The site's notebook of a chapter (written by `gradbook.pages.source`) carries the chapter's config
in a cell and calls `prepare` before the chapter's own code; the one line
`ch = Chapter.start(__file__)` becomes `ch = Chapter.start(run.module, argv=run.argv)`:

    run = notebook.prepare("03_initialization", CONFIG, quick=QUICK, out=OUT, lang=LANG)

`prepare` writes the config beside the outputs in the reader's folder (so `Chapter.start` finds it
as it finds any toml, and the folder records what produced it), hands the chapter `--out` and
`--quick` as arguments, and, in IPython (Jupyter, VS Code, Colab), shows each figure of the
reader's language below the cell that drew it and prints the measured numbers once the chapter
has finished. Nothing here is imported by a chapter module, so none of it is an input of
`make figures`.
"""

from __future__ import annotations

import atexit
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradbook.chapter import SLUG, parse_run_args
from gradbook.plot import LANGS  # the languages a figure is drawn in

RESERVED = ("chapter", "seed", "quick", "config")  # results.json's header, not measurements
LIST_SHOWN = 6  # a longer list prints its first and last values and its length

MESSAGES = {
    "en": {
        "where": "[gradbook] {slug} ({mode} mode): figures and results.json go to {out}",
        "numbers": "[gradbook] {slug}: the measured numbers (results.json in {out})",
        "quick": "quick",
        "full": "full",
    },
    "zh": {
        "where": "[gradbook] {slug}（{mode}模式）：图表和 results.json 写入 {out}",
        "numbers": "[gradbook] {slug}：测得的数字（见 {out} 中的 results.json）",
        "quick": "快速",
        "full": "完整",
    },
}

_HOOKS: dict[str, Callable[..., None]] = {}  # slug -> its post_run_cell hook, one per chapter


class NotebookError(ValueError):
    """A setting of the notebook that cannot work; the message says which and why."""


@dataclass
class Run:
    """What `Chapter.start` needs: the module path its config sits beside, and its arguments."""

    slug: str
    out_dir: Path
    quick: bool
    lang: str
    argv: list[str] = field(default_factory=list)

    @property
    def module(self) -> Path:
        """A path whose `.toml` sibling is the config `prepare` wrote (the file need not exist)."""
        return self.out_dir / f"{self.slug}.py"


def prepare(
    slug: str,
    config: str,
    *,
    quick: bool = False,
    out: str | os.PathLike[str] = "gradbook-out",
    lang: str = "en",
    argv: list[str] | None = None,
) -> Run:
    """Get a chapter ready to run in `out/<slug>/`; show its figures and numbers as it runs.

    `argv` (default: the command line) may add `--quick` or override `out` with `--out DIR` and
    `lang` with `--lang`, so `python 03_initialization.py --quick` works; a kernel's own arguments
    are ignored. The chapter draws its figures in `lang` only: the reader sees one language, and
    drawing both would double the figures' share of the run.
    """
    if not SLUG.match(slug):
        raise NotebookError(f"{slug!r} is not a chapter name like 03_initialization")
    if lang not in LANGS:
        raise NotebookError(f"LANG = {lang!r}: the figures exist in {' and '.join(LANGS)}")
    args = parse_run_args(argv)
    quick = bool(quick or args.quick)
    lang = args.lang or lang
    out_dir = (Path(args.out) if args.out else Path(out).expanduser() / slug).resolve()
    if (out_dir.parent / "manifest.json").is_file() and out_dir.parent.name == "figures":
        raise NotebookError(
            f"OUT points into the book's committed figures ({out_dir.parent}); "
            "choose another folder (only `make figures` publishes there)"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = ["--out", str(out_dir), "--lang", lang] + (["--quick"] if quick else [])
    run = Run(slug, out_dir, quick, lang, argv)  # --lang: only the figures the reader is shown
    run.module.with_suffix(".toml").write_text(config.lstrip("\n"), encoding="utf-8")
    text = MESSAGES[lang]
    print(text["where"].format(slug=slug, mode=text["quick" if quick else "full"], out=out_dir))
    _watch(run)
    return run


def numbers(results: dict[str, Any]) -> list[str]:
    """The measurements of a results.json as `path/to/key: value` lines, long lists shortened.

    The paths are those a chapter page quotes, `{{ 03_initialization:act_std_ratio/kaiming }}`.
    """
    lines: list[str] = []

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(f"{path}/{key}", item)
        elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
            shown = [_fmt(v) for v in value]
            if len(shown) > LIST_SHOWN:
                shown = [*shown[:3], "...", shown[-1]]
                lines.append(f"{path}: [{', '.join(shown)}] ({len(value)} values)")
            else:
                lines.append(f"{path}: [{', '.join(shown)}]")
        elif isinstance(value, list):
            lines.append(f"{path}: {len(value)} items")
        else:
            lines.append(f"{path}: {_fmt(value)}")

    for key, value in results.items():
        if key not in RESERVED:
            walk(key, value)
    return lines


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


class _Watcher:
    """Finds the figures and results a run (re)wrote since it last looked."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.seen = {p: _stamp(p) for p in self._files()}

    def _files(self) -> list[Path]:
        drawn = self.run.out_dir.glob(f"*.{self.run.lang}.svg")
        figures = sorted(drawn, key=lambda p: _stamp(p) or (0, 0))  # in the order they were drawn
        return [*figures, self.run.out_dir / "results.json"]

    def new(self) -> list[Path]:
        fresh = []
        for path in self._files():
            stamp = _stamp(path)
            if stamp is not None and stamp != self.seen.get(path):
                self.seen[path] = stamp
                fresh.append(path)
        return fresh

    def report(self, show_svg: Callable[[Path], None]) -> None:
        for path in self.new():
            if path.suffix == ".svg":
                show_svg(path)
            else:
                self.print_numbers(path)

    def print_numbers(self, path: Path) -> None:
        text = MESSAGES[self.run.lang]["numbers"].format(slug=self.run.slug, out=self.run.out_dir)
        print("\n".join([text, *numbers(json.loads(path.read_text(encoding="utf-8")))]))


def _watch(run: Run) -> None:
    """After each cell (IPython) or at exit (a script), show what the chapter wrote."""
    watcher = _Watcher(run)
    shell = _ipython()
    if shell is None:
        atexit.register(watcher.report, show_svg=lambda p: None)  # finish() already said where
        return
    from IPython.display import SVG, display

    def after_cell(result: Any = None) -> None:
        watcher.report(lambda p: display(SVG(filename=str(p))))

    old = _HOOKS.pop(run.slug, None)
    if old is not None:  # the settings cell ran again: one hook per chapter
        shell.events.unregister("post_run_cell", old)
    shell.events.register("post_run_cell", after_cell)
    _HOOKS[run.slug] = after_cell


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell if shell is not None and hasattr(shell, "events") else None
