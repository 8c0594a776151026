// One Python interpreter per visit, shared by all cells: starts the worker ahead of the first Run, runs
// jobs in order, and stops runaway code. With Material's instant navigation the page's JavaScript
// lives on from page to page, and so does the worker: each page's cells run in a fresh namespace
// (newPage), so nothing a page defined is visible on the next one. When the page is cross-origin isolated, Stop interrupts Python in place
// and keeps its variables. Otherwise the only way to stop Python is to terminate its worker, so once
// the page is idle a spare worker boots in the background and Stop swaps it in: ready at once, with
// fresh (empty) variables.

// How long an interrupt may take before the worker is replaced (ms).
const INTERRUPT_GRACE_MS = 1000;
// How long the spare may wait for an idle moment before it boots anyway (ms).
const SPARE_IDLE_TIMEOUT_MS = 3000;

/** One worker with its own Pyodide: loading -> ready, or failed. */
class Boot {
  constructor(onMessage) {
    this.state = "loading";
    this.timings = null;
    this.error = null;
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.worker.onmessage = (event) => onMessage(this, event.data);
    this.worker.onerror = (event) =>
      onMessage(this, { type: "fatal", error: event.message || "the worker failed to load" });
    const init = { type: "init" };
    this.interrupt = null; // Uint8Array over a SharedArrayBuffer, when available
    if (globalThis.crossOriginIsolated && typeof SharedArrayBuffer === "function") {
      this.interrupt = new Uint8Array(new SharedArrayBuffer(1));
      init.interruptBuffer = this.interrupt.buffer;
    }
    this.worker.postMessage(init);
  }

  terminate() {
    this.worker.terminate();
    this.state = "gone";
  }
}

/**
 * Tell the rest of the page (the offline control) that Python has started or failed: the book's
 * background save waits for it, so it never competes with the reader's first Run.
 */
function announce(state) {
  document.documentElement.dataset.gradbookPython = state;
  window.dispatchEvent(new CustomEvent("gradbook:python", { detail: { state } }));
}

function whenIdle(callback) {
  if (typeof requestIdleCallback === "function") {
    requestIdleCallback(callback, { timeout: SPARE_IDLE_TIMEOUT_MS });
  } else {
    setTimeout(callback, 200);
  }
}

export class Kernel {
  constructor() {
    this.boot = null; // the worker that runs the cells
    this.spare = null; // a second worker booting or ready, swapped in by Stop (not isolated only)
    this.spareScheduled = false;
    this.spareFailed = false;
    this.state = "idle"; // idle | loading | ready | failed
    this.fatal = null;
    this.timings = null; // startup cost of the current worker, read by the browser tests
    this.epoch = 0; // bumped on every restart: state from older epochs is gone
    this.queue = [];
    this.running = null;
    this.nextId = 1;
    this.page = 0; // bumped by newPage: the worker gives every page its own namespace
    this.restartListeners = new Set();
  }

  /**
   * The reader moved to another page (instant navigation): forget the old page's cells, stop what
   * they still run, and run the new page's cells in a fresh namespace. The interpreter stays warm.
   */
  newPage() {
    this.page += 1;
    this.restartListeners.clear();
    const queued = this.queue;
    this.queue = [];
    for (const job of queued) job.onDone("cancelled", {});
    if (this.running) this.stop(this.running);
  }

  get interrupt() {
    return this.boot ? this.boot.interrupt : null;
  }

  /** Start the worker if it is not running; cheap to call often. */
  start() {
    if (this.boot) return;
    this.fatal = null;
    this.adopt(new Boot((boot, message) => this.route(boot, message)));
  }

  /** Start booting ahead of a Run (first cell in view, pointer on a Run button); never retries a failure. */
  warm() {
    if (this.state === "idle") this.start();
  }

  /**
   * Queue code; job callbacks: onStart(), onOutput(stream, text), onChart(spec), onDone(status, info).
   * A job with kind "check" runs an exercise's check (messages in job.lang); its status is passed or
   * failed (info.detail: the message) unless the check itself raised.
   */
  submit(job) {
    job.id = this.nextId++;
    job.page = this.page;
    this.queue.push(job);
    if (this.state === "failed") this.restart();
    else this.start();
    this.pump();
    return job;
  }

  /** Stop a job: drop it if queued; interrupt or kill it if running. */
  stop(job) {
    const index = this.queue.indexOf(job);
    if (index >= 0) {
      this.queue.splice(index, 1);
      job.onDone("cancelled", {});
      this.scheduleSpare();
      return;
    }
    if (this.running !== job) return;
    if (this.interrupt && this.state === "ready") {
      this.interrupt[0] = 2; // SIGINT: Python raises KeyboardInterrupt at its next check
      setTimeout(() => {
        if (this.running === job) this.restart();
      }, INTERRUPT_GRACE_MS);
    } else {
      this.restart();
    }
  }

  /** Throw the interpreter away and continue on the spare (or a fresh worker); jobs are stopped. */
  restart() {
    if (this.boot) this.boot.terminate();
    this.boot = null;
    const running = this.running;
    const queued = this.queue;
    this.running = null;
    this.queue = [];
    this.epoch += 1;
    this.state = "idle";
    const spare = this.spare;
    this.spare = null;
    if (spare) this.adopt(spare);
    else this.start();
    if (running) running.onDone("stopped", { restarted: true });
    for (const job of queued) job.onDone("cancelled", {});
    for (const listener of this.restartListeners) listener(this.epoch);
    this.scheduleSpare();
  }

  /** Make boot the worker that runs the cells, whether it is still loading or ready. */
  adopt(boot) {
    this.boot = boot;
    this.state = boot.state;
    this.timings = boot.timings;
  }

  isBusyWith(job) {
    return this.running === job || this.queue.includes(job);
  }

  /**
   * Boot a spare worker once the cells' worker is ready and nothing runs, at an idle moment.
   * Only without cross-origin isolation: with it, Stop interrupts instead of replacing the worker.
   */
  scheduleSpare() {
    if (!this.spareWanted() || this.spareScheduled) return;
    this.spareScheduled = true;
    whenIdle(() => {
      this.spareScheduled = false;
      if (this.spareWanted()) {
        this.spare = new Boot((boot, message) => this.route(boot, message));
      }
    });
  }

  spareWanted() {
    return (
      !this.spare &&
      !this.spareFailed &&
      !globalThis.crossOriginIsolated &&
      this.state === "ready" &&
      !this.running &&
      this.queue.length === 0
    );
  }

  /** Messages of the current worker are handled; the spare only reports that it is ready or failed. */
  route(boot, message) {
    if (message.type === "ready") {
      boot.state = "ready";
      boot.timings = message.timings;
    } else if (message.type === "fatal") {
      boot.error = message.error;
    }
    if (boot === this.boot) this.handle(message);
    else if (boot === this.spare && message.type === "fatal") {
      boot.terminate(); // a spare that cannot start is dropped; Stop then starts a fresh worker
      this.spare = null;
      this.spareFailed = true;
    }
  }

  pump() {
    if (this.state !== "ready" || this.running || this.queue.length === 0) return;
    const job = this.queue.shift();
    this.running = job;
    job.epoch = this.epoch;
    job.onStart();
    this.boot.worker.postMessage({
      type: "run",
      id: job.id,
      code: job.code,
      filename: job.filename,
      namespace: job.page,
      kind: job.kind ?? "cell",
      lang: job.lang ?? "en",
    });
  }

  handle(message) {
    const job = this.running;
    switch (message.type) {
      case "ready":
        this.state = "ready";
        this.timings = message.timings;
        this.pump();
        this.scheduleSpare();
        announce("ready");
        break;
      case "fatal":
        this.fail(message.error);
        announce("failed");
        break;
      case "out":
        if (job && job.id === message.id) job.onOutput(message.stream, message.text);
        break;
      case "chart":
        if (job && job.id === message.id) job.onChart(message.spec);
        break;
      case "done":
        if (job && job.id === message.id) {
          this.running = null;
          job.onDone(message.status, { truncated: message.truncated, detail: message.detail });
          if (message.status !== "ok") this.cancelDependents(job);
          this.pump();
          this.scheduleSpare();
        }
        break;
      default:
        break;
    }
  }

  /** A failed prerequisite cancels the cells that were queued behind it for the same click. */
  cancelDependents(job) {
    if (!job.chain) return;
    const dependents = this.queue.filter((other) => other.chain === job.chain);
    this.queue = this.queue.filter((other) => other.chain !== job.chain);
    for (const other of dependents) other.onDone("cancelled", {});
  }

  fail(error) {
    if (this.boot) this.boot.terminate();
    this.boot = null;
    this.state = "failed";
    this.fatal = error;
    const jobs = [this.running, ...this.queue].filter(Boolean);
    this.running = null;
    this.queue = [];
    for (const job of jobs) job.onDone("fatal", { error });
  }
}

let shared = null;

/** The visit's kernel: one per page load, kept across instant navigations. */
export function sharedKernel() {
  shared ??= new Kernel();
  return shared;
}
