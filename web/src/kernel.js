// One Python interpreter per page, shared by all cells: starts the worker lazily, runs jobs in order,
// and stops runaway code (interrupt when the page is cross-origin isolated, otherwise a fresh worker).

// How long an interrupt may take before the worker is replaced (ms).
const INTERRUPT_GRACE_MS = 1000;

export class Kernel {
  constructor() {
    this.worker = null;
    this.state = "idle"; // idle | loading | ready | failed
    this.fatal = null;
    this.epoch = 0; // bumped on every restart: state from older epochs is gone
    this.queue = [];
    this.running = null;
    this.nextId = 1;
    this.interrupt = null; // Uint8Array over a SharedArrayBuffer, when available
    this.statusListeners = new Set();
    this.restartListeners = new Set();
  }

  /** Start the worker if it is not running; cheap to call often. */
  start() {
    if (this.worker) return;
    this.state = "loading";
    this.fatal = null;
    const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.worker = worker;
    worker.onmessage = (event) => {
      if (this.worker === worker) this.handle(event.data);
    };
    worker.onerror = (event) => {
      if (this.worker === worker) this.fail(event.message || "the worker failed to load");
    };
    const init = { type: "init" };
    if (globalThis.crossOriginIsolated && typeof SharedArrayBuffer === "function") {
      this.interrupt = new Uint8Array(new SharedArrayBuffer(1));
      init.interruptBuffer = this.interrupt.buffer;
    } else {
      this.interrupt = null;
    }
    worker.postMessage(init);
    this.emitStatus();
  }

  /** Queue code; job callbacks: onStart(), onOutput(stream, text), onChart(spec), onDone(status, info). */
  submit(job) {
    job.id = this.nextId++;
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

  /** Throw the interpreter away and start a fresh one; everything queued or running is stopped. */
  restart() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    const running = this.running;
    const queued = this.queue;
    this.running = null;
    this.queue = [];
    this.epoch += 1;
    this.state = "idle";
    if (running) running.onDone("stopped", {});
    for (const job of queued) job.onDone("cancelled", {});
    for (const listener of this.restartListeners) listener(this.epoch);
    this.start();
  }

  isBusyWith(job) {
    return this.running === job || this.queue.includes(job);
  }

  pump() {
    if (this.state !== "ready" || this.running || this.queue.length === 0) return;
    const job = this.queue.shift();
    this.running = job;
    job.epoch = this.epoch;
    job.onStart();
    this.worker.postMessage({ type: "run", id: job.id, code: job.code, filename: job.filename });
  }

  handle(message) {
    const job = this.running;
    switch (message.type) {
      case "ready":
        this.state = "ready";
        this.timings = message.timings; // startup cost, read by the browser tests
        this.emitStatus();
        this.pump();
        break;
      case "fatal":
        this.fail(message.error);
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
          job.onDone(message.status, { truncated: message.truncated });
          if (message.status !== "ok") this.cancelDependents(job);
          this.pump();
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
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.state = "failed";
    this.fatal = error;
    const jobs = [this.running, ...this.queue].filter(Boolean);
    this.running = null;
    this.queue = [];
    for (const job of jobs) job.onDone("fatal", { error });
    this.emitStatus();
  }

  emitStatus() {
    for (const listener of this.statusListeners) listener(this.state);
  }
}
