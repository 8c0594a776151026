// `node web/pyc_stdlib.mjs ../build/web/pyodide` (after pack_lite.py): add bytecode to Pyodide's
// standard library zip for the modules a cell's first Run imports.
//
// Why: Pyodide ships the stdlib as .py sources, so every start compiles the ~150 modules that its
// bootstrap (asyncio, ast, inspect, pathlib, zipfile...), the gradbook-lite wheel and the cells'
// runner import. Compiling is most of the interpreter's start-up in the browser (the wasm runs in
// V8's baseline tier then). bench.browser.startup, alternating sites, 2 cores at load ~12: Run ->
// first output 15.1 s -> 6.5 s cold, 9.4 s -> 5.1 s warm (medians of 3); the zip grows 2.5 -> 3.9 MB.
// zipimport prefers `mod.pyc` beside `mod.py` in the same zip.
//
// How: the same Pyodide (so the same Python and bytecode magic) runs under node, boots as the worker
// does (gradbook-lite loaded, the runner's and gradbook.lite's imports done, the check module
// too), and lists the modules it imported from the zip. Each gets an unchecked hash-based .pyc
// next to its source; the .py files stay, so tracebacks still quote stdlib lines, and a bytecode
// that Python would not accept falls back to the source. Deterministic: entries keep their order
// and timestamps. The result is cached in node_modules/.cache, keyed by every input.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const npmPyodide = join(here, "node_modules", "pyodide");
const repo = resolve(here, "..");
const cacheDir = join(here, "node_modules", ".cache", "gradbook-pyc");

// What the worker runs before the first output (worker.js), plus the first Check's import.
const IMPORTS = `
import gradbook.lite.charts
exec(compile(RUNNER, "<gradbook runner>", "exec"), {"__name__": "gradbook_runner"})
import gradbook.lite.check
`;

// In Pyodide: add a .pyc for each module imported from the zip; write /tmp/stdlib.zip.
const REWRITE = `
import importlib._bootstrap_external as bx
import importlib.util
import sys
import zipfile

src = f"/lib/python{sys.version_info[0]}{sys.version_info[1]}.zip"
used = set()
for module in list(sys.modules.values()):
    origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
    if origin.startswith(src + "/") and origin.endswith(".py"):
        used.add(origin[len(src) + 1 :])
with zipfile.ZipFile(src) as zin, zipfile.ZipFile("/tmp/stdlib.zip", "w") as zout:
    names = set(zin.namelist())
    for info in zin.infolist():
        data = zin.read(info)
        zout.writestr(info, data, compress_type=info.compress_type)
        if info.filename in used and info.filename + "c" not in names:
            code = compile(data, f"{src}/{info.filename}", "exec", dont_inherit=True)
            pyc = bx._code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)
            extra = zipfile.ZipInfo(info.filename + "c", info.date_time)
            zout.writestr(extra, bytes(pyc), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
len(used)
`;

async function inputsKey(pyodideDir) {
  const hash = createHash("sha256");
  const lite = join(repo, "gradbook", "lite");
  const files = [
    join(npmPyodide, "python_stdlib.zip"),
    join(npmPyodide, "pyodide.asm.wasm"),
    fileURLToPath(import.meta.url),
    join(here, "src", "runner.py"),
    join(pyodideDir, "pyodide-lock.json"),
    ...(await readdir(lite)).filter((f) => f.endsWith(".py")).map((f) => join(lite, f)),
  ];
  for (const file of files.sort()) hash.update(basename(file)).update(await readFile(file));
  return hash.digest("hex").slice(0, 32);
}

async function compileStdlib(pyodideDir) {
  const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
  const pyodide = await loadPyodide({
    indexURL: `${pyodideDir}/`,
    stdLibURL: join(npmPyodide, "python_stdlib.zip"), // the sources, even if this ran before
    stdout: () => {},
  });
  const errors = [];
  await pyodide.loadPackage("gradbook-lite", {
    messageCallback: () => {},
    errorCallback: (text) => errors.push(text),
  });
  if (errors.length) throw new Error(`gradbook-lite did not load: ${errors.join("; ")}`);
  pyodide.globals.set("RUNNER", await readFile(join(here, "src", "runner.py"), "utf8"));
  pyodide.runPython(IMPORTS);
  const count = pyodide.runPython(REWRITE);
  return { zip: pyodide.FS.readFile("/tmp/stdlib.zip"), count };
}

const pyodideDir = resolve(process.argv[2] ?? join(repo, "build", "web", "pyodide"));
const cached = join(cacheDir, `${await inputsKey(pyodideDir)}.zip`);
let zip;
if (existsSync(cached)) {
  zip = await readFile(cached);
} else {
  const result = await compileStdlib(pyodideDir);
  zip = result.zip;
  await mkdir(cacheDir, { recursive: true });
  await writeFile(cached, zip);
  console.log(`precompiled ${result.count} stdlib modules`);
}
await writeFile(join(pyodideDir, "python_stdlib.zip"), zip);
