// The Python side of the cells: a module Web Worker that owns one Pyodide interpreter.
// Protocol (page -> worker): {type: "init", interruptBuffer?}, {type: "run", id, code, filename,
//   namespace, kind?, lang?} (cells of one page share a namespace; a new value starts an empty one;
//   kind "check" runs an exercise's check, with its messages in `lang`).
// Protocol (worker -> page): {type: "ready", timings}, {type: "fatal", error},
//   {type: "out", id, stream, text}, {type: "chart", id, spec},
//   {type: "done", id, status, truncated, detail} (a check: status passed | failed, detail its message).
import RUNNER_SOURCE from "./runner.py";

// Output beyond this many characters per run is dropped here, so a huge print never reaches the page.
const OUTPUT_CAP = 200_000;
// Streamed output: a write after a quiet spell of FLUSH_MS is posted at once; a fast burst is posted
// every FLUSH_MS or FLUSH_CHARS. (A blocked worker has no timers, so the tail of a burst waits for
// the next write or the end of the cell.)
const FLUSH_MS = 50;
const FLUSH_CHARS = 16_384;

const pyodideBase = new URL("../pyodide/", import.meta.url).href;

let pyodide = null;
let runCell = null;
let runCheck = null;
let interruptBuffer = null;

// State of the run in progress.
let current = null; // {id, used, truncated, pending: [{stream, text}], pendingChars, lastFlush}

function post(message) {
  self.postMessage(message);
}

function flush() {
  if (!current || current.pending.length === 0) return;
  for (const chunk of current.pending) post({ type: "out", id: current.id, ...chunk });
  current.pending = [];
  current.pendingChars = 0;
  current.lastFlush = performance.now();
}

function write(stream, text) {
  if (!current) return;
  const room = OUTPUT_CAP - current.used;
  if (room <= 0) {
    current.truncated = true;
    return;
  }
  if (text.length > room) {
    text = text.slice(0, room);
    current.truncated = true;
  }
  current.used += text.length;
  const last = current.pending[current.pending.length - 1];
  if (last && last.stream === stream) last.text += text;
  else current.pending.push({ stream, text });
  current.pendingChars += text.length;
  if (current.pendingChars >= FLUSH_CHARS || performance.now() - current.lastFlush >= FLUSH_MS) {
    flush();
  }
}

function postChart(specJson) {
  if (!current) return;
  flush(); // keep text printed before the chart above it
  post({ type: "chart", id: current.id, spec: String(specJson) });
}

// The only package the cells need; loadPyodide fetches it while the interpreter boots.
const PACKAGE = "gradbook-lite";

async function init(message) {
  const t0 = performance.now();
  let runtimeReady = t0;
  const { loadPyodide } = await import(`${pyodideBase}pyodide.mjs`);
  pyodide = await loadPyodide({
    indexURL: pyodideBase,
    packages: [PACKAGE],
    // Called once the wasm is compiled and the stdlib zip is in place, before Python starts.
    fsInit: async () => {
      runtimeReady = performance.now();
    },
  });
  pyodide.setStdout({ batched: (text) => write("stdout", `${text}\n`) });
  pyodide.setStderr({ batched: (text) => write("stderr", `${text}\n`) });
  if (message.interruptBuffer) {
    interruptBuffer = new Uint8Array(message.interruptBuffer);
    pyodide.setInterruptBuffer(interruptBuffer);
  }
  const t1 = performance.now();
  if (!pyodide.loadedPackages[PACKAGE]) {
    // The `packages` option only logs failures: load again to collect the reason.
    const problems = [];
    await pyodide.loadPackage(PACKAGE, {
      messageCallback: () => {},
      errorCallback: (text) => problems.push(text),
    });
    if (problems.length) throw new Error(`${PACKAGE} could not be loaded (${problems.join("; ")})`);
  }
  try {
    pyodide.runPython("import gradbook.lite.charts");
  } catch (err) {
    const reason = err.message.split("\n").slice(-2).join(" ");
    throw new Error(`${PACKAGE} could not be imported (${reason})`);
  }
  const runnerGlobals = pyodide.globals.get("dict")();
  pyodide.runPython(RUNNER_SOURCE, { globals: runnerGlobals, filename: "<gradbook runner>" });
  runCell = runnerGlobals.get("run_cell");
  runCheck = runnerGlobals.get("run_check");
  const charts = pyodide.pyimport("gradbook.lite.charts");
  charts.set_sink(postChart);
  const t2 = performance.now();
  post({
    type: "ready",
    timings: {
      runtimeMs: runtimeReady - t0, // fetch + compile the wasm, fetch the stdlib
      pyodideMs: t1 - t0, // ... + start the interpreter (and install the wheel)
      packagesMs: t2 - t1, // import gradbook.lite and the runner
    },
  });
}

function run(message) {
  current = {
    id: message.id,
    used: 0,
    truncated: false,
    pending: [],
    pendingChars: 0,
    lastFlush: -Infinity,
  };
  if (interruptBuffer) interruptBuffer[0] = 0;
  let status;
  let detail = null;
  try {
    if (message.kind === "check") {
      const args = [message.code, message.filename, message.namespace ?? 0, message.lang || "en"];
      const result = JSON.parse(runCheck(...args));
      status = result.status;
      detail = result.message ?? null;
    } else {
      status = runCell(message.code, message.filename, message.namespace ?? 0);
    }
  } catch (err) {
    write("stderr", `${err?.message || err}\n`);
    status = "error";
  }
  flush();
  post({ type: "done", id: message.id, status, truncated: current.truncated, detail });
  current = null;
}

// Messages are handled one at a time: a run never starts before init has finished.
let chain = Promise.resolve();
self.onmessage = (event) => {
  const message = event.data;
  chain = chain.then(async () => {
    try {
      if (message.type === "init") await init(message);
      else if (message.type === "run") run(message);
    } catch (err) {
      post({ type: "fatal", error: String(err?.message || err) });
    }
  });
};
