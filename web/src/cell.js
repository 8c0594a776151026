// One cell on the page: editor, Run/Stop/Reset/Share, a status line, notes, knobs and an output area
// (text and charts). The reader's edits are kept per page and cell (store.js); a shared link's code
// is shown without touching them until the reader runs or edits it (share.js).
import { drawChart } from "./chart.js";
import { createEditor, getCode, setCode } from "./editor.js";
import { createKnobs, knobSpecs, writeValue } from "./knobs.js";
import { dropFromHash, shareLink as linkTo } from "./share.js";
import { forget, load, save, storageKey } from "./store.js";

const OUTPUT_CAP_KB = 200; // the worker enforces the cap; this is only for the notice
const KNOB_RERUN_MS = 250; // a knob held down or dragged reruns once it rests this long

/** A toolbar button of a cell (exercises use the same). */
export function button(className, label, title) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = `pycell-button ${className}`;
  el.textContent = label;
  el.title = title;
  return el;
}

export class Cell {
  /** `key`: where the reader's edits are kept (store.js), by default this page's cell `index`. */
  constructor(root, index, { kernel, text, runUpTo, shared = null, key = null }) {
    this.root = root;
    this.index = index;
    this.kernel = kernel;
    this.t = text;
    this.runUpTo = runUpTo;
    this.original = root.querySelector("code").textContent.replace(/\n$/, "");
    this.storageKey = key ?? storageKey(index);
    this.knobSpecs = knobSpecs(root);
    this.job = null;
    this.ranEpoch = -1; // kernel epoch in which this cell last ran
    this.charts = [];
    this.shared = false; // showing a shared link's code the reader has not run or edited yet
    this.setting = false; // true while the page (not the reader) changes the editor's code
    this.rerunTimer = 0;
    this.rerunWanted = false;
    this.build();
    this.restore(shared);
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
    this.shareButton = button("pycell-share", t.share, t.shareTitle);
    this.stopButton.disabled = true;
    this.badge = document.createElement("span");
    this.badge.className = "pycell-badge";
    this.badge.hidden = true;
    this.status = document.createElement("span");
    this.status.className = "pycell-status";
    this.status.setAttribute("role", "status");
    toolbar.append(
      this.runButton,
      this.stopButton,
      this.resetButton,
      this.shareButton,
      this.badge,
      this.status,
    );

    // Notes about this cell's code: a shared link, an edit kept from an older build, a share link.
    this.notes = document.createElement("div");
    this.notes.className = "pycell-notes";
    this.notes.setAttribute("aria-live", "polite");

    this.knobs = null;
    if (this.knobSpecs.length) {
      this.knobs = createKnobs(this.knobSpecs, {
        idPrefix: `pycell-${this.index + 1}-knob`,
        text: t,
        onChange: (knob, value, commit) => this.turnKnob(knob, value, commit),
      });
    }

    const editorHost = document.createElement("div");
    editorHost.className = "pycell-editor";
    this.output = document.createElement("div");
    this.output.className = "pycell-output";
    this.output.setAttribute("aria-label", t.outputLabel);
    this.output.setAttribute("aria-live", "polite");
    this.output.hidden = true;

    root.append(toolbar, this.notes, ...(this.knobs ? [this.knobs.element] : []));
    root.append(editorHost, this.output);
    this.editor = createEditor(editorHost, this.original, {
      onRun: () => this.run(),
      onChange: () => this.changed(),
      label: t.editorLabel,
    });

    this.runButton.addEventListener("click", () => this.run());
    // A pointer on Run (or keyboard focus) is a strong hint: start Python now, not at the click.
    const warm = () => this.kernel.warm();
    this.runButton.addEventListener("pointerenter", warm);
    this.runButton.addEventListener("focus", warm);
    this.stopButton.addEventListener("click", () => this.stop());
    this.resetButton.addEventListener("click", () => this.reset());
    this.shareButton.addEventListener("click", () => this.share());
  }

  /** Show the shared code, or the reader's saved edit; an edit of older book code is only offered. */
  restore(shared) {
    const saved = load(this.storageKey);
    if (shared !== null && shared !== this.original) {
      this.shared = true;
      this.setCodeQuietly(shared);
      this.note("shared", saved ? this.t.sharedNotice : this.t.sharedNoticeNoEdit);
    } else if (saved && saved.original === this.original) {
      this.setCodeQuietly(saved.code);
    } else if (saved) {
      this.offer(saved);
    }
    this.knobs?.sync(getCode(this.editor));
    this.showDiffers();
  }

  /** A shared link opened on this page (hashchange): show its code as restore() does. */
  showShared(code) {
    if (code === getCode(this.editor)) return;
    this.shared = true;
    this.setCodeQuietly(code);
    const saved = load(this.storageKey);
    this.note("shared", saved ? this.t.sharedNotice : this.t.sharedNoticeNoEdit);
    this.showDiffers();
  }

  /** A saved edit written for other book code: the reader restores or discards it. */
  offer(saved) {
    const restore = button("pycell-restore-edit", this.t.restoreEdit, "");
    const discard = button("pycell-discard-edit", this.t.discardEdit, "");
    restore.addEventListener("click", () => {
      this.clearNote("changed");
      this.adopt();
      this.setCodeQuietly(saved.code);
      this.keep();
      this.showDiffers();
    });
    discard.addEventListener("click", () => {
      this.clearNote("changed");
      if (load(this.storageKey)?.original !== this.original) forget(this.storageKey);
    });
    this.note("changed", this.t.changed, restore, discard);
  }

  /** Replace the code for the reader (Reset, a knob, a restored edit): not an edit of theirs. */
  setCodeQuietly(code) {
    this.setting = true;
    try {
      setCode(this.editor, code);
    } finally {
      this.setting = false;
    }
    this.knobs?.sync(code);
  }

  /** The editor's document changed; the reader's own changes are kept. */
  changed() {
    if (this.setting) return;
    this.adopt();
    this.keep();
    this.knobs?.sync(getCode(this.editor));
    this.showDiffers();
  }

  /** The reader ran or edited the shared code: it becomes their edit, saved from now on. */
  adopt() {
    if (!this.shared) return;
    this.shared = false;
    this.clearNote("shared");
    dropFromHash(this.index);
  }

  /** Save the code as the reader's edit (or forget the edit when it is the book's code again). */
  keep() {
    if (this.shared) return;
    const code = getCode(this.editor);
    if (code === this.original) forget(this.storageKey);
    else if (!save(this.storageKey, this.original, code)) this.note("storage", this.t.notSaved);
  }

  reset() {
    this.adopt();
    this.clearNote("changed");
    this.clearNote("knob");
    this.clearNote("share");
    this.setCodeQuietly(this.original);
    forget(this.storageKey);
    this.showDiffers();
  }

  /** Mark the cell when its code differs from the book's. */
  showDiffers() {
    const differs = getCode(this.editor) !== this.original;
    this.root.dataset.differs = differs ? (this.shared ? "shared" : "edited") : "";
    this.badge.hidden = !differs;
    this.badge.textContent = this.shared ? this.t.sharedBadge : this.t.edited;
    this.badge.title = this.shared ? this.t.sharedTitle : this.t.editedTitle;
  }

  /** Copy a link that opens this page with this cell's code; the link is shown too. */
  async share() {
    const link = linkTo(this.index, getCode(this.editor));
    this.shareLink = link;
    const field = document.createElement("input");
    field.type = "text";
    field.readOnly = true;
    field.value = link;
    field.className = "pycell-share-link";
    field.setAttribute("aria-label", this.t.shareLinkLabel);
    field.addEventListener("focus", () => field.select());
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch {
      copied = false; // no clipboard (permission, insecure context): the reader copies the field
    }
    this.note("share", copied ? this.t.shareCopied : this.t.shareManual, field);
    if (!copied) field.select();
  }

  /** A knob moved: rewrite its assignment; once it rests, rerun the cell (stopping a run). */
  turnKnob(knob, value, commit) {
    const code = writeValue(getCode(this.editor), knob, value);
    if (code === null) {
      this.note("knob", this.t.knobMissing(knob.name));
      return;
    }
    this.clearNote("knob");
    this.adopt();
    this.setCodeQuietly(code);
    this.keep();
    this.showDiffers();
    if (!commit) return;
    clearTimeout(this.rerunTimer);
    this.rerunTimer = setTimeout(() => this.rerun(), KNOB_RERUN_MS);
  }

  rerun() {
    if (this.job && this.kernel.isBusyWith(this.job)) {
      this.rerunWanted = true; // finish() runs the cell again once the old run has stopped
      this.stop();
    } else {
      this.run();
    }
  }

  /** One note per kind under the toolbar: text (never HTML) and optional controls. */
  note(kind, message, ...controls) {
    this.clearNote(kind);
    const note = document.createElement("div");
    note.className = "pycell-note";
    note.dataset.kind = kind;
    const text = document.createElement("span");
    text.textContent = message;
    note.append(text, ...controls);
    this.notes.append(note);
  }

  clearNote(kind) {
    for (const note of this.notes.querySelectorAll(`.pycell-note[data-kind="${kind}"]`)) {
      note.remove();
    }
  }

  setStatus(kind, message) {
    this.root.dataset.state = kind;
    this.status.textContent = message;
  }

  /** Run this cell (and, first, any earlier cell that has not run in the current interpreter). */
  run() {
    if (this.job && this.kernel.isBusyWith(this.job)) return;
    if (this.shared) {
      this.adopt();
      this.keep();
      this.showDiffers();
    }
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
      filename: this.filename(),
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

  /** The file name tracebacks give this cell's code. */
  filename() {
    return `<cell ${this.index + 1}>`;
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
    if (this.rerunWanted) {
      this.rerunWanted = false;
      setTimeout(() => this.run(), 0); // after the kernel has finished stopping the old run
    }
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
