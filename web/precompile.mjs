// `node web/precompile.mjs ../build/web/pyodide` (make web, after pack_lite.py): ship bytecode for
// the Python modules a cell's first Run imports, so the browser does not compile them at start-up.
//
// Why: Pyodide ships its stdlib as .py sources, and the gradbook-lite wheel is sources too, so every
// start compiled the ~150 modules that Pyodide's bootstrap (asyncio, ast, inspect, pathlib,
// zipfile...), gradbook.lite and the cells' runner import. That compiling was most of the
// interpreter's start-up in the browser (the wasm runs in V8's baseline tier then).
// bench.browser.startup, alternating sites, 2 cores at load ~12, medians of 3: Run -> first output
// 15.1 s -> 6.5 s cold, 9.4 s -> 5.1 s warm with the stdlib precompiled; importing gradbook.lite
// then took 0.48-0.69 s cold and 0.30-0.45 s warm, 0.01-0.09 s precompiled (load ~8).
//
// How: the same Pyodide (the same Python, so the same bytecode magic) runs under node, boots as the
// worker does (gradbook-lite loaded, the runner's and gradbook.lite's imports done, the check module
// too) and lists the modules it imported from the stdlib zip. Each gets an unchecked hash-based
// `mod.pyc` beside its source in the zip (zipimport prefers it); every module of the wheel gets
// `__pycache__/mod.cpython-3XX.pyc` (in RECORD too), and the lock file the wheel's new sha256. The
// .py files stay: tracebacks still quote their lines, and bytecode Python would refuse falls back
// to the source. Deterministic (entries keep their order and timestamps); cached in
// node_modules/.cache, keyed by every input.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const npmPyodide = join(here, "node_modules", "pyodide");
const repo = resolve(here, "..");
const cacheDir = join(here, "node_modules", ".cache", "gradbook-pyc");
const PACKAGE = "gradbook-lite";

// What the worker runs before the first output (worker.js), plus the first Check's import.
const IMPORTS = `
import gradbook.lite.charts
exec(compile(RUNNER, "<gradbook runner>", "exec"), {"__name__": "gradbook_runner"})
import gradbook.lite.check
`;

// In Pyodide: write /tmp/stdlib.zip and /tmp/wheel.whl with bytecode added; return the count.
const REWRITE = `
import base64
import hashlib
import importlib._bootstrap_external as bx
import importlib.util
import sys
import zipfile


def pyc(source: bytes, filename: str) -> bytes:
    code = compile(source, filename, "exec", dont_inherit=True)
    return bytes(bx._code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))


def add(zout, name, data, date_time):
    zout.writestr(zipfile.ZipInfo(name, date_time), data, zipfile.ZIP_DEFLATED, 9)


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
            add(zout, info.filename + "c", pyc(data, f"{src}/{info.filename}"), info.date_time)

site = sys.modules["gradbook"].__path__[0].rsplit("/", 1)[0]
tag = sys.implementation.cache_tag
with zipfile.ZipFile(WHEEL) as zin, zipfile.ZipFile("/tmp/wheel.whl", "w") as zout:
    infos = zin.infolist()
    meta = [i for i in infos if ".dist-info/" in i.filename]
    records = []
    for info in infos:
        if info in meta or "/__pycache__/" in info.filename:  # meta last; a rerun starts afresh
            continue
        data = zin.read(info)
        zout.writestr(info, data, compress_type=info.compress_type)
        if info.filename.endswith(".py"):
            folder, _, name = info.filename.rpartition("/")
            target = f"{folder}/__pycache__/{name[:-3]}.{tag}.pyc"
            code = pyc(data, f"{site}/{info.filename}")
            add(zout, target, code, info.date_time)
            digest = base64.urlsafe_b64encode(hashlib.sha256(code).digest()).rstrip(b"=")
            records.append(f"{target},sha256={digest.decode()},{len(code)}")
    for info in meta:
        data = zin.read(info)
        if info.filename.endswith("/RECORD"):
            lines = [line for line in data.decode().splitlines() if "/__pycache__/" not in line]
            last = [line for line in lines if line.startswith(info.filename + ",")]
            rest = [line for line in lines if line not in last]
            data = ("\\n".join(rest + records + last) + "\\n").encode()
        zout.writestr(info, data, compress_type=info.compress_type)
len(used) + len(records)
`;

async function inputsKey(pyodideDir) {
  const hash = createHash("sha256");
  const lite = join(repo, "gradbook", "lite");
  const files = [
    join(npmPyodide, "python_stdlib.zip"),
    join(npmPyodide, "pyodide.asm.wasm"),
    fileURLToPath(import.meta.url),
    join(here, "src", "runner.py"),
    join(pyodideDir, "pyodide-lock.json"), // holds the wheel's sha256
    ...(await readdir(lite)).filter((f) => f.endsWith(".py")).map((f) => join(lite, f)),
  ];
  for (const file of files.sort()) hash.update(basename(file)).update(await readFile(file));
  return hash.digest("hex").slice(0, 32);
}

async function precompile(pyodideDir, wheelName) {
  const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
  const pyodide = await loadPyodide({
    indexURL: `${pyodideDir}/`,
    stdLibURL: join(npmPyodide, "python_stdlib.zip"), // the sources, even if this ran before
    stdout: () => {},
  });
  const errors = [];
  await pyodide.loadPackage(PACKAGE, {
    messageCallback: () => {},
    errorCallback: (text) => errors.push(text),
  });
  if (errors.length) throw new Error(`${PACKAGE} did not load: ${errors.join("; ")}`);
  pyodide.globals.set("RUNNER", await readFile(join(here, "src", "runner.py"), "utf8"));
  pyodide.runPython(IMPORTS);
  pyodide.FS.writeFile("/tmp/in.whl", await readFile(join(pyodideDir, wheelName)));
  pyodide.globals.set("WHEEL", "/tmp/in.whl");
  const count = pyodide.runPython(REWRITE);
  return {
    stdlib: pyodide.FS.readFile("/tmp/stdlib.zip"),
    wheel: pyodide.FS.readFile("/tmp/wheel.whl"),
    count,
  };
}

const pyodideDir = resolve(process.argv[2] ?? join(repo, "build", "web", "pyodide"));
const lockPath = join(pyodideDir, "pyodide-lock.json");
const entry = JSON.parse(await readFile(lockPath, "utf8")).packages[PACKAGE];
const key = await inputsKey(pyodideDir);
const cached = { stdlib: join(cacheDir, `${key}.zip`), wheel: join(cacheDir, `${key}.whl`) };
let out;
if (existsSync(cached.stdlib) && existsSync(cached.wheel)) {
  out = { stdlib: await readFile(cached.stdlib), wheel: await readFile(cached.wheel) };
} else {
  out = await precompile(pyodideDir, entry.file_name);
  await mkdir(cacheDir, { recursive: true });
  await writeFile(cached.stdlib, out.stdlib);
  await writeFile(cached.wheel, out.wheel);
  console.log(`precompiled ${out.count} modules (stdlib and ${PACKAGE})`);
}
await writeFile(join(pyodideDir, "python_stdlib.zip"), out.stdlib);
await writeFile(join(pyodideDir, entry.file_name), out.wheel);
// The lock pins the wheel's sha256 (loadPackage checks it): replaced in place, formatting kept.
const sha256 = createHash("sha256").update(out.wheel).digest("hex");
const text = await readFile(lockPath, "utf8");
await writeFile(lockPath, text.replace(`"sha256": "${entry.sha256}"`, `"sha256": "${sha256}"`));
