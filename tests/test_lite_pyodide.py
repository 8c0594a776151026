"""gradbook.lite inside real Pyodide (node + the npm pyodide package): same numbers as CPython.

Self-contained: it copies Pyodide's core from web/node_modules (installed by `make setup`) into a
scratch directory, builds and registers the wheel there with web/pack_lite.py, and loads it the way
the site's worker does (`loadPackage("gradbook-lite")`, then `import gradbook.lite`). The pages'
cells all run in one Pyodide, each page in a fresh namespace, as the site's worker runs them when a
reader moves from page to page (instant navigation keeps it): one interpreter start (seconds of
CPU: the wasm compiled, Python booted) instead of one per page. A chapter's cells run here in the
language tests/test_browser.py does not run them in (conftest.chromium_language).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import chromium_language

from bench import cells
from bench.cells import DOCS, page_cells, pages_with_cells

ROOT = Path(__file__).resolve().parent.parent
NPM_PYODIDE = ROOT / "web" / "node_modules" / "pyodide"
CORE = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]

pytestmark = pytest.mark.pyodide  # node, web/node_modules/pyodide and the Pyodide venv

SMOKE = textwrap.dedent(
    """
    import json, sys
    from gradbook.lite import MLP, LSTMCell, Rng, Tensor, charts, cross_entropy, data, mse, probes
    from gradbook.lite import run_lstm

    rng = Rng(0)
    digits = data.digits()
    net = MLP([64, 16, 16, 10], "tanh", "xavier", batch_norm=True, rng=rng)
    loss = cross_entropy(net(Tensor(digits.x_train[:32])), digits.y_train[:32])
    loss.backward()
    cell = LSTMCell(2, 4, rng, forget_bias=1.0)
    xs, target = data.adding_problem(4, 8, rng=rng)
    lstm_loss = mse(run_lstm(cell, xs)[-1].cols(0, 1), target)
    lstm_loss.backward()
    specs = []
    charts.set_sink(specs.append)
    charts.line(x=[1, 2], series={"a": [1.0, 2.0]}, logy=True)
    RESULT = json.dumps({
        "platform": sys.platform,
        "loss": loss.item(),
        "grad_norms": probes.weight_grad_norms(net),
        "preact_grad_norms": probes.preact_grad_norms(net),
        "lstm_loss": lstm_loss.item(),
        "lstm_grad_norms": probes.grad_norms(cell.parameters()),
        "chart": json.loads(specs[0]),
    })
    """
)

NODE_SCRIPT = """
const [pyodideDir, code] = process.argv.slice(2);
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
const py = await loadPyodide({ indexURL: pyodideDir + "/" });
const errors = [];
await py.loadPackage("gradbook-lite", { messageCallback: () => {}, errorCallback: (e) => errors.push(e) });
if (errors.length) throw new Error(errors.join("; "));
py.runPython(code);
if (py.globals.has("RESULT")) console.log(py.globals.get("RESULT"));
"""


# The same, for many pieces of code in turn: argv = the Pyodide dir, a JSON file {id: code}, the
# JSON file to write {id: {"out": printed text, "error": message or null}} to.
NODE_BATCH = """
import { readFileSync, writeFileSync } from "node:fs";
const [pyodideDir, codesFile, resultsFile] = process.argv.slice(2);
const { loadPyodide } = await import(pyodideDir + "/pyodide.mjs");
const py = await loadPyodide({ indexURL: pyodideDir + "/" });
const errors = [];
await py.loadPackage("gradbook-lite", { messageCallback: () => {}, errorCallback: (e) => errors.push(e) });
if (errors.length) throw new Error(errors.join("; "));
const results = {};
for (const [id, code] of Object.entries(JSON.parse(readFileSync(codesFile, "utf8")))) {
  const out = [];
  py.setStdout({ batched: (text) => out.push(text) });
  py.setStderr({ batched: (text) => out.push(text) });
  let error = null;
  try {
    py.runPython(code);
  } catch (err) {
    error = String(err?.message || err);
  }
  results[id] = { out: out.join("\\n"), error };
}
writeFileSync(resultsFile, JSON.stringify(results));
"""


@pytest.fixture(scope="module")
def pyodide_dir(tmp_path_factory) -> Path:
    assert NPM_PYODIDE.is_dir(), "web/node_modules/pyodide is missing: run `make setup`"
    out = tmp_path_factory.mktemp("pyodide")
    for name in CORE:
        shutil.copyfile(NPM_PYODIDE / name, out / name)
    subprocess.run(
        [str(ROOT / ".venv-pyodide/bin/python"), str(ROOT / "web/pack_lite.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def run_in_pyodide(pyodide_dir: Path, code: str) -> str:
    """Run `code` in Pyodide under node; return what it printed (RESULT last, if it sets one)."""
    script = pyodide_dir / "run.mjs"
    script.write_text(NODE_SCRIPT)
    done = subprocess.run(
        ["node", str(script), str(pyodide_dir), code], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def run_many_in_pyodide(pyodide_dir: Path, codes: dict[str, str]) -> dict[str, dict]:
    """Run each of `codes` in turn in one Pyodide under node: {id: {"out", "error"}}."""
    script = pyodide_dir / "batch.mjs"
    script.write_text(NODE_BATCH)
    (pyodide_dir / "codes.json").write_text(json.dumps(codes), encoding="utf-8")
    results = pyodide_dir / "results.json"
    results.unlink(missing_ok=True)
    done = subprocess.run(
        ["node", str(script), str(pyodide_dir), str(pyodide_dir / "codes.json"), str(results)],
        capture_output=True, text=True, timeout=BATCH_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(results.read_text(encoding="utf-8"))


def test_pyodide_gives_the_same_numbers_as_cpython(pyodide_dir: Path) -> None:
    in_browser = json.loads(run_in_pyodide(pyodide_dir, SMOKE).strip().splitlines()[-1])
    scope: dict = {}
    exec(SMOKE, scope)  # noqa: S102 - our own test code
    here = json.loads(scope["RESULT"])
    assert in_browser["platform"] == "emscripten"
    assert in_browser["chart"] == here["chart"]
    for key in ("loss", "lstm_loss"):  # dot products may round differently (math.sumprod in 3.12+)
        assert in_browser[key] == pytest.approx(here[key], rel=1e-12)
    for key in ("grad_norms", "preact_grad_norms", "lstm_grad_norms"):
        assert in_browser[key] == pytest.approx(here[key], rel=1e-12)


def runs_under_node(page: Path) -> bool:
    """A chapter page whose cells Chromium does not run (conftest.chromium_language), and every
    other page with cells, in both languages."""
    lang, *rest = page.relative_to(DOCS).parts
    if rest[:1] != ["chapters"]:
        return True
    return chromium_language(page.stem) != lang


PAGES = [p for p in pages_with_cells() if runs_under_node(p)]
BATCH_TIMEOUT_S = 1800  # every page's cells, on a loaded machine


@pytest.fixture(scope="module")
def page_outputs(pyodide_dir: Path) -> dict[str, dict]:
    """Every page's cells run in one Pyodide, a page at a time; by page path under docs/."""
    codes = {
        p.relative_to(DOCS).as_posix(): cells.script(page_cells(p), name=p.name) for p in PAGES
    }
    return run_many_in_pyodide(pyodide_dir, codes)


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_page_cells_run_in_pyodide(page_outputs: dict[str, dict], page: Path) -> None:
    """Every page's cells, in order, in real Pyodide: the pages Chromium does not run (each chapter
    in one language here, the other in tests/test_browser.py); how long they take is measured by
    `make bench` (browser.cells.*)."""
    done = page_outputs[page.relative_to(DOCS).as_posix()]
    assert done["error"] is None, f"{page.relative_to(DOCS)}: {done['error']}"
    result = cells.parse(done["out"])
    assert result["errors"] == [], f"{page.relative_to(DOCS)}: {result['errors']}"
    assert result["charts"] >= 1
