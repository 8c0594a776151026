"""The downloaded notebooks run as a reader runs them, outside the repository.

From the built site: the gradbook wheel (assets/web/dist/) goes into a fresh venv in a temporary
folder as a reader installs it (`pip install <wheel> nbconvert ipykernel`), held to the book's lock
file as constraints (`-c requirements.txt`: torch==2.13.0, the CPU wheel on this machine's disk; a
`--system-site-packages` venv would not help, the base interpreter has no torch), so the venv gets
what the wheel needs and nothing the repository's tools need. Then every chapter's English
`.ipynb` runs under nbconvert, switched to quick mode as a reader would switch it (`QUICK = True`
in its settings cell). Its Chinese `.py` twin is the same code (a test compares their syntax trees,
with only `LANG` and the comments differing), so one chapter's twin runs end to end as
`python NN_slug.py --quick` (the script path and the Chinese messages) instead of every chapter's
training a second time. Any error fails; so does a run that shows no figure, prints no numbers or
writes outside the reader's folder.

    .venv/bin/python tests/test_notebooks.py --measure [--only 09_distribution_shift ...]

times them, quick and full, into `gradbook/pages/notebook_times.json` (every chapter, or those
named), which the notebooks' first cell quotes; a test fails for a chapter not measured yet.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest

from gradbook.build import discover

REPO = Path(__file__).resolve().parents[1]

CHAPTERS = [c.slug for c in discover.discover(REPO)]
WHEELS = "assets/web/dist/gradbook-*.whl"
TIMES = REPO / "gradbook" / "pages" / "notebook_times.json"
RUN_TIMEOUT_S = 900  # one notebook, full mode, on a loaded machine
# What runs a notebook from the command line, the part of a reader's `pip install jupyter` we use.
RUNNERS = ("nbconvert", "ipykernel")
SCRIPT_RUN = CHAPTERS[0]  # the chapter whose Chinese twin runs as a script (all are compared)


# --------------------------------------------------------------------------- a reader's machine


def site_wheel(site: Path) -> Path:
    """The one gradbook wheel the site offers."""
    wheels = sorted(site.glob(WHEELS))
    assert len(wheels) == 1, f"the site offers {len(wheels)} gradbook wheels: {wheels}"
    return wheels[0]


def reader_env(bin_dir: Path) -> dict[str, str]:
    """A reader's shell: no PYTHONPATH, no venv of ours, a home of its own beside the venv.

    And Python's default of caching the bytecode it compiles: the venv is installed with
    `--no-compile`, so without the caches (PYTHONDONTWRITEBYTECODE, set on some CI machines) every
    kernel would compile torch, matplotlib and Jupyter from source again, about 2 s of CPU each.
    """
    home = bin_dir.parent.parent / "home"
    ours = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in ours}
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[var] = str(home / var.lower())
    return env


def make_venv(where: Path, wheel: Path) -> Path:
    """A fresh venv at `where` with the book's lock and gradbook from `wheel`; its bin folder."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(where)], check=True)
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    args = [str(wheel), *RUNNERS, "-c", str(REPO / "requirements.txt")]
    proc = subprocess.run([*pip, *args], capture_output=True, text=True)
    assert proc.returncode == 0, f"pip install {args} failed:\n{proc.stdout}\n{proc.stderr}"
    check = subprocess.run(
        [str(where / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True
    )
    assert check.returncode == 0, f"the wheel's requirements do not fit the lock:\n{check.stdout}"
    return where / "bin"


def run_notebook(
    bin_dir: Path, notebook: Path, work: Path, *, quick: bool
) -> tuple[dict, float, float]:
    """Execute a copy of `notebook` in `work` with nbconvert: the executed notebook, the wall time
    and the CPU time of nbconvert and its kernel (seconds)."""
    work.mkdir(parents=True, exist_ok=True)
    text = notebook.read_text(encoding="utf-8")
    if quick:  # what a reader does: flip the switch in the settings cell
        assert text.count("QUICK = False") == 1, f"{notebook.name}: no single QUICK switch"
        text = text.replace("QUICK = False", "QUICK = True")
    (work / notebook.name).write_text(text, encoding="utf-8")
    cmd = [str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute"]
    cmd += [f"--ExecutePreprocessor.timeout={RUN_TIMEOUT_S}", "--output", "executed.ipynb"]
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(
        [*cmd, notebook.name], cwd=work, env=reader_env(bin_dir),
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S + 60,
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    assert proc.returncode == 0, f"{notebook.name} failed under nbconvert:\n{proc.stderr[-6000:]}"
    return json.loads((work / "executed.ipynb").read_text(encoding="utf-8")), seconds, cpu


def _children_cpu() -> float:
    """User + system time of the finished child processes (and theirs: nbconvert's kernel)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def outputs(nb: dict) -> list[dict]:
    return [out for cell in nb["cells"] if cell["cell_type"] == "code" for out in cell["outputs"]]


def stream_text(nb: dict) -> str:
    return "".join(
        "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
        for o in outputs(nb)
        if o["output_type"] == "stream"
    )


# --------------------------------------------------------------------------- the notebook runtime

TOML = """\
seed = 7
steps = 100
uses_torch = false
required_keys = ["acc"]

[quick]
steps = 3
"""


def test_prepare_puts_the_config_beside_the_outputs_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradbook import notebook
    from gradbook.chapter import Chapter

    monkeypatch.setattr(notebook.atexit, "register", lambda *a, **k: None)  # a script's report
    run = notebook.prepare(
        "02_demo", TOML, quick=True, out=tmp_path / "mine", argv=["-f", "k.json"]
    )
    out = tmp_path / "mine" / "02_demo"
    assert run.out_dir == out and (out / "02_demo.toml").read_text() == TOML
    assert f"(quick mode): figures and results.json go to {out}" in capsys.readouterr().out
    ch = Chapter.start(run.module, argv=run.argv)
    assert ch.quick and ch.config["steps"] == 3 and ch.out_dir == out
    assert ch.langs == ("en",), "a reader's run draws only the figures the notebook shows"
    ch.results["acc"] = 0.5
    ch.finish()
    # a script's own command line: --quick and --out win over the settings cell
    monkeypatch.chdir(tmp_path)
    argv = ["--quick", "--out", "elsewhere", "--lang", "zh"]
    run = notebook.prepare("02_demo", TOML, out="unused", argv=argv)
    assert run.quick and run.out_dir == (tmp_path / "elsewhere").resolve() and run.lang == "zh"
    assert Chapter.start(run.module, argv=run.argv).langs == ("zh",)


def test_prepare_refuses_the_books_committed_figures(tmp_path: Path) -> None:
    from gradbook import notebook

    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "manifest.json").write_text("{}")
    with pytest.raises(notebook.NotebookError, match="committed figures"):
        notebook.prepare("02_demo", TOML, out=tmp_path / "figures", argv=[])
    with pytest.raises(notebook.NotebookError, match="LANG"):
        notebook.prepare("02_demo", TOML, out=tmp_path, lang="fr", argv=[])


def test_numbers_print_as_the_pages_quote_them() -> None:
    from gradbook.notebook import numbers

    doc = {"chapter": "02_demo", "seed": 0, "quick": True, "config": {"a": 1},
           "acc": {"relu": 0.96123, "sigmoid": 0.1}, "curve": list(range(10)), "name": "x"}  # fmt: skip
    assert numbers(doc) == [
        "acc/relu: 0.9612",
        "acc/sigmoid: 0.1",
        "curve: [0, 1, 2, ..., 9] (10 values)",
        'name: "x"',
    ]


# --------------------------------------------------------------------------- the reader's runs


@pytest.fixture(scope="module")
def reader_bin(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reader's venv, outside the repository, with gradbook from the site's wheel."""
    where = tmp_path_factory.mktemp("reader") / "venv"
    assert REPO not in where.parents
    return make_venv(where, site_wheel(built_site))


@pytest.mark.site
def test_the_site_offers_the_wheel_without_the_browser_engine(built_site: Path) -> None:
    wheel = site_wheel(built_site)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line for line in zf.read(meta).decode().splitlines() if line.startswith("Requires-Dist")
        ]
    assert "gradbook/notebook.py" in names and "gradbook/chapter.py" in names
    assert not [n for n in names if n.startswith("gradbook/lite/")], "browser engine in the wheel"
    torch = [r for r in requires if r.startswith("Requires-Dist: torch")]
    assert torch and "==" not in torch[0], f"torch is pinned, Colab's own would not do: {torch}"
    assert not list((built_site / "zh").glob(WHEELS)), "the Chinese site links the English copy"


@pytest.mark.slow
@pytest.mark.site
def test_the_wheel_is_imported_as_installed(reader_bin: Path, tmp_path: Path) -> None:
    code = (
        "import importlib.util, gradbook, gradbook.notebook, torch;"
        "print(gradbook.__file__); print(importlib.util.find_spec('gradbook.lite'))"
    )
    proc = subprocess.run(
        [str(reader_bin / "python"), "-c", code], cwd=tmp_path, env=reader_env(reader_bin),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    where, lite = proc.stdout.split()
    assert Path(where).is_relative_to(reader_bin.parent), f"gradbook imported from {where}"
    assert lite == "None", "gradbook.lite is installed with the torch-side wheel"


@pytest.mark.slow
@pytest.mark.site
@pytest.mark.parametrize("slug", CHAPTERS)
def test_downloaded_notebook_runs_in_quick_mode(
    reader_bin: Path, built_site: Path, tmp_path: Path, slug: str
) -> None:
    work = tmp_path / "notebooks"
    nb, _, _ = run_notebook(reader_bin, built_site / "source" / f"{slug}.ipynb", work, quick=True)
    assert not [o for o in outputs(nb) if o["output_type"] == "error"]
    assert nb["cells"][0]["cell_type"] == "markdown"
    out = work / "gradbook-out" / slug
    text = stream_text(nb)
    assert f"(quick mode): figures and results.json go to {out}" in text, text[:2000]
    assert f"{slug}: the measured numbers" in text, "no numbers printed"
    shown = [o for o in outputs(nb) if "image/svg+xml" in o.get("data", {})]
    drawn = sorted(out.glob("*.en.svg"))
    assert drawn and len(shown) == len(drawn), f"{len(shown)} figures shown, {len(drawn)} drawn"
    assert not list(out.glob("*.zh.*")), "the English notebook drew the Chinese figures too"
    assert json.loads((out / "results.json").read_text())["quick"] is True


def _lang_settings(tree: ast.AST) -> list[ast.Constant]:
    """The values of `LANG = "..."` assignments in a cell."""
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["LANG"]
        and isinstance(node.value, ast.Constant)
    ]


def code_trees(cells: list[str]) -> list[str]:
    """Each code cell's syntax tree (comments gone), LANG's value blanked: the code that runs."""
    trees = []
    for source in cells:
        tree = ast.parse(source)
        for value in _lang_settings(tree):
            value.value = "LANG"
        trees.append(ast.dump(tree))
    return trees


def lang_of(cells: list[str]) -> str:
    """The value the settings cell gives LANG."""
    values = [v.value for source in cells for v in _lang_settings(ast.parse(source))]
    assert len(values) == 1, f"LANG is set {len(values)} times, not once"
    return values[0]


@pytest.mark.site
@pytest.mark.parametrize("slug", CHAPTERS)
def test_chinese_script_runs_the_english_notebooks_code(built_site: Path, slug: str) -> None:
    """The zh `.py` twin is the code the en notebook ran (test above), LANG aside: running every
    twin too would train every chapter a second time to prove nothing more about it."""
    import jupytext

    en = json.loads((built_site / "source" / f"{slug}.ipynb").read_text(encoding="utf-8"))
    en_cells = ["".join(c["source"]) for c in en["cells"] if c["cell_type"] == "code"]
    zh = jupytext.reads((built_site / "zh" / "source" / f"{slug}.py").read_text(encoding="utf-8"))
    zh_cells = [c.source for c in zh.cells if c.cell_type == "code"]
    assert len(zh_cells) == len(en_cells), (
        f"{slug}: {len(zh_cells)} code cells, en has {len(en_cells)}"
    )
    assert (lang_of(en_cells), lang_of(zh_cells)) == ("en", "zh")
    for i, (a, b) in enumerate(zip(code_trees(en_cells), code_trees(zh_cells), strict=True)):
        assert a == b, f"{slug}: code cell {i + 1} of the zh .py differs from the en notebook's"


@pytest.mark.slow
@pytest.mark.site
def test_downloaded_script_runs_in_quick_mode(
    reader_bin: Path, built_site: Path, tmp_path: Path
) -> None:
    """The Chinese site's `.py` twin, run as a script from the command line (one chapter: the
    others are the same wrapper around code their notebooks ran)."""
    slug = SCRIPT_RUN
    script = shutil.copy(built_site / "zh" / "source" / f"{slug}.py", tmp_path)
    proc = subprocess.run(
        [str(reader_bin / "python"), script, "--quick"], cwd=tmp_path, env=reader_env(reader_bin),
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    assert proc.returncode == 0, f"{slug}.py failed:\n{proc.stderr[-6000:]}"
    out = tmp_path / "gradbook-out" / slug
    assert f"（快速模式）：图表和 results.json 写入 {out}" in proc.stdout, proc.stdout[:2000]
    assert f"{slug}：测得的数字" in proc.stdout
    assert (out / "results.json").is_file() and list(out.glob("*.zh.svg"))
    assert not list(out.glob("*.en.*")), "the Chinese script drew the English figures too"


# --------------------------------------------------------------------------- run times


def measure(slugs: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """Build the site, make a reader's venv and time every English notebook, quick and full.

    Returns `{"cpu": {slug: {"quick": s, "full": s}}, "wall": {...}}`. The notebooks quote the CPU
    time: a chapter runs on one thread, so on an idle laptop its wall time is about its CPU time,
    while the wall time here grows with whatever else the machine runs.
    """
    from gradbook.pages.__main__ import build

    times: dict[str, dict[str, dict[str, float]]] = {"cpu": {}, "wall": {}}
    with tempfile.TemporaryDirectory(prefix="gradbook-times-") as tmp:
        site = Path(tmp) / "site"
        build(site, root=REPO, quiet=True)
        bin_dir = make_venv(Path(tmp) / "venv", site_wheel(site))
        for slug in slugs:
            times["cpu"][slug], times["wall"][slug] = {}, {}
            for mode in ("quick", "full"):
                work = Path(tmp) / f"{slug}-{mode}"
                notebook = site / "source" / f"{slug}.ipynb"
                _, wall, cpu = run_notebook(bin_dir, notebook, work, quick=mode == "quick")
                times["cpu"][slug][mode], times["wall"][slug][mode] = round(cpu, 1), round(wall, 1)
                print(f"{slug} {mode}: {cpu:.1f} s CPU, {wall:.1f} s wall", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", action="store_true", help=f"time the notebooks into {TIMES}")
    parser.add_argument("--only", nargs="+", choices=CHAPTERS, help="these chapters (default: all)")
    args = parser.parse_args()
    if not args.measure:
        parser.error("nothing to do: pass --measure (the tests run under pytest)")
    load = os.getloadavg()[0]
    times = measure(args.only or CHAPTERS)
    note = (
        f"{date.today().isoformat()}: nbconvert, kernel start included, in a fresh venv with the "
        f"lock's torch; {os.cpu_count()} cores ({platform.machine()}), one thread per chapter, "
        f"1-minute load {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    old = json.loads(TIMES.read_text(encoding="utf-8")) if TIMES.is_file() else {}
    doc = {
        "about": "seconds: CPU time of nbconvert and its kernel (what the notebooks quote); "
        "wall_seconds: elapsed on the measuring machine",
        "measured": {**old.get("measured", {}), **dict.fromkeys(times["cpu"], note)},
        "seconds": {**old.get("seconds", {}), **times["cpu"]},
        "wall_seconds": {**old.get("wall_seconds", {}), **times["wall"]},
    }
    TIMES.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TIMES.relative_to(REPO)}")


if __name__ == "__main__":
    main()
