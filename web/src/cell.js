// One cell on the page: editor, Run/Stop/Reset, a status line and an output area (text and charts).
import { drawChart } from "./chart.js";
import { createEditor, getCode, setCode } from "./editor.js";

const OUTPUT_CAP_KB = 200; // the worker enforces the cap; this is only for the notice

function button(className, label, title) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = `pycell-button ${className}`;
  el.textContent = label;
  el.title = title;
  return el;
}

export class Cell {
  constructor(root, index, { kernel, text, runUpTo }) {
    this.root = root;
    this.index = index;
    this.kernel = kernel;
    this.t = text;
    this.runUpTo = runUpTo;
    this.original = root.querySelector("code").textContent.replace(/\n$/, "");
    this.job = null;
    this.ranEpoch = -1; // kernel epoch in which this cell last ran
    this.charts = [];
    this.build();
  }

  build() {
    const { root, t } = this;
    root.textContent = "";
    root.classList.add("pycell--live");

    const toolbar = document.createElement("div");
    toolbar.className = "pycell-toolbar";
    this.runButton = button("pycell-run", t.run, t.runTitle);
    this.stopButton = button("pycell-stop", t.stop, t.stopTitle);
    this.resetButton = button("pycell-reset", t.reset, t.resetTitle);
    this.stopButton.disabled = true;
    this.status = document.createElement("span");
    this.status.className = "pycell-status";
    this.status.setAttribute("role", "status");
    toolbar.append(this.runButton, this.stopButton, this.resetButton, this.status);

    const editorHost = document.createElement("div");
    editorHost.className = "pycell-editor";
    this.output = document.createElement("div");
    this.output.className = "pycell-output";
    this.output.setAttribute("aria-label", t.outputLabel);
    this.output.setAttribute("aria-live", "polite");
    this.output.hidden = true;

    root.append(toolbar, editorHost, this.output);
    this.editor = createEditor(editorHost, this.original, {
      onRun: () => this.run(),
      label: t.editorLabel,
    });

    this.runButton.addEventListener("click", () => this.run());
    // A pointer on Run (or keyboard focus) is a strong hint: start Python now, not at the click.
    const warm = () => this.kernel.warm();
    this.runButton.addEventListener("pointerenter", warm);
    this.runButton.addEventListener("focus", warm);
    this.stopButton.addEventListener("click", () => this.stop());
    this.resetButton.addEventListener("click", () => setCode(this.editor, this.original));
  }

  setStatus(kind, message) {
    this.root.dataset.state = kind;
    this.status.textContent = message;
  }

  /** Run this cell (and, first, any earlier cell that has not run in the current interpreter). */
  run() {
    if (this.job && this.kernel.isBusyWith(this.job)) return;
    this.runUpTo(this);
  }

  /** Queue this cell on the kernel; chain groups the cells queued by one click. */
  enqueue(chain) {
    this.clearOutput();
    this.runButton.disabled = true;
    this.stopButton.disabled = false;
    const loading = this.kernel.state !== "ready";
    this.setStatus("queued", loading ? this.t.loading : this.t.queued);
    let started = 0;
    this.job = this.kernel.submit({
      code: getCode(this.editor),
      filename: `<cell ${this.index + 1}>`,
      chain,
      onStart: () => {
        started = performance.now();
        this.setStatus("running", this.t.running);
      },
      onOutput: (stream, text) => this.appendText(stream, text),
      onChart: (spec) => this.appendChart(spec),
      onDone: (status, info) => this.finish(status, info, started),
    });
  }

  stop() {
    if (this.job) this.kernel.stop(this.job);
  }

  finish(status, info, started) {
    this.flushText();
    this.runButton.disabled = false;
    this.stopButton.disabled = true;
    const t = this.t;
    if (status === "ok" || status === "error" || status === "interrupted") {
      this.ranEpoch = this.job.epoch;
    }
    switch (status) {
      case "ok":
        this.setStatus("done", t.done(((performance.now() - started) / 1000).toFixed(2)));
        break;
      case "error":
        this.setStatus("error", t.error);
        break;
      case "interrupted":
        this.setStatus("stopped", t.interrupted);
        break;
      case "stopped":
        this.setStatus("stopped", info.restarted ? t.stoppedRestarted : t.stopped);
        break;
      case "cancelled":
        this.setStatus("cancelled", t.cancelled);
        break;
      case "fatal":
        this.setStatus("error", t.error);
        this.appendText("stderr", t.fatal(info.error));
        this.flushText();
        break;
    }
    if (info.truncated) this.appendNotice(t.truncated(OUTPUT_CAP_KB));
  }

  /** The interpreter was replaced: what this cell defined is gone. */
  markStale() {
    if (this.root.dataset.state === "done" || this.root.dataset.state === "error") {
      this.setStatus("stale", this.t.restarted);
    }
  }

  clearOutput() {
    for (const chart of this.charts) chart.handle?.destroy();
    this.charts = [];
    this.output.textContent = "";
    this.output.hidden = true;
    this.textNode = null;
    this.textStream = null;
    this.pending = [];
    this.frame = 0;
  }

  // Output arrives in bursts; collect it and touch the DOM at most once per animation frame.
  appendText(stream, text) {
    this.pending.push([stream, text]);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flushText());
  }

  flushText() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    for (const [stream, text] of this.pending) {
      if (!this.textNode || this.textStream !== stream) {
        const block = document.createElement("pre");
        block.className = `pycell-text pycell-${stream}`;
        this.textNode = document.createTextNode("");
        block.append(this.textNode);
        this.output.append(block);
        this.textStream = stream;
      }
      this.textNode.appendData(text); // text only: printed HTML is never parsed
    }
    if (this.pending.length) this.output.hidden = false;
    this.pending = [];
  }

  appendNotice(message) {
    const note = document.createElement("p");
    note.className = "pycell-notice";
    note.textContent = message;
    this.output.append(note);
    this.output.hidden = false;
    this.textNode = null;
  }

  appendChart(specText) {
    this.flushText();
    this.textNode = null;
    const box = document.createElement("div");
    box.className = "pycell-chart";
    this.output.append(box);
    this.output.hidden = false;
    const chart = { box, specText, handle: null };
    this.charts.push(chart);
    this.drawChart(chart);
  }

  drawChart(chart) {
    chart.handle?.destroy();
    chart.box.textContent = "";
    try {
      chart.handle = drawChart(chart.box, JSON.parse(chart.specText));
    } catch (err) {
      chart.handle = null;
      chart.box.textContent = this.t.chartError(err.message);
    }
  }

  /** Redraw charts, e.g. after the reader switched between light and dark mode. */
  redrawCharts() {
    for (const chart of this.charts) this.drawChart(chart);
  }
}
