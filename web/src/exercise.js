// A checked exercise (a ```pyexercise fence, gradbook/pages/exercises.py): a Cell whose editor
// holds the starter, plus Check (the reader's code, then the exercise's check, in the page's
// namespace), Hint (one at a time), Solution (after the first check, or on request) and a result
// line in the page's language. A passed check is remembered in localStorage (store.js) and shown on
// the exercise and in the page's progress line; edits are kept like a cell's, under the exercise id.
// Keys in the editor: Shift+Enter checks (the reader's code runs first, so nothing is lost: an
// exercise is there to be checked), Ctrl/Cmd+Enter only runs it, as Run does; the page says so
// under its progress line.
import { Prec, StateEffect } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { button, Cell } from "./cell.js";
import { pageLanguage } from "./i18n.js";
import { passedInEitherLanguage } from "./progress.js";
import { exerciseCodeKey, exerciseKey, markPassed } from "./store.js";

let checks = 0; // chain ids of Check clicks: the check is cancelled when the reader's code fails

/** Text with `code` spans, built as text nodes: a message (even one holding HTML) is never parsed. */
function withCode(parent, message) {
  message.split("`").forEach((part, i) => {
    if (!part) return;
    if (i % 2 === 1) {
      const code = document.createElement("code");
      code.textContent = part;
      parent.append(code);
    } else {
      parent.append(document.createTextNode(part));
    }
  });
}

export class ExerciseCell extends Cell {
  constructor(root, index, { kernel, text, onPassed }) {
    const id = root.dataset.id;
    super(root, index, {
      kernel,
      text,
      runUpTo: (cell) => cell.enqueue(`exercise-run-${++checks}`), // self-contained: no earlier cells
      key: exerciseCodeKey(id),
    });
    this.onPassed = onPassed;
    this.refreshPassed();
  }

  build() {
    const { root } = this;
    this.id = root.dataset.id;
    this.checkCode = root.dataset.check ?? "";
    this.solutionCode = (root.dataset.solution ?? "").replace(/\n$/, "");
    this.hints = JSON.parse(root.dataset.hints || "[]");
    this.passKey = exerciseKey(this.id);
    this.shown = 0; // hints revealed
    this.attempted = false; // a check has failed (or the reader's code raised) at least once
    this.checkJob = null;
    super.build();
    const t = this.t;
    root.classList.add("pyexercise--live"); // not .pycell: pages count their cells by it
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", t.exerciseLabel(this.id));
    this.shareButton.hidden = true; // a shared link addresses cells by number, not exercises

    this.checkButton = button("pyexercise-check", t.check, t.checkTitle);
    this.hintButton = button("pyexercise-hint-button", t.hint, t.hintTitle);
    this.solutionButton = button("pyexercise-solution-button", t.solution, t.solutionTitle);
    this.hintButton.hidden = this.hints.length === 0;
    this.mark = document.createElement("span");
    this.mark.className = "pyexercise-mark";
    this.mark.textContent = t.passedMark;
    this.mark.title = t.passedMarkTitle;
    this.mark.hidden = true;
    this.runButton.title = t.exerciseRunTitle;
    this.runButton.setAttribute("aria-keyshortcuts", "Control+Enter Meta+Enter");
    this.checkButton.setAttribute("aria-keyshortcuts", "Shift+Enter");
    this.editor.dispatch({
      effects: StateEffect.appendConfig.of(
        Prec.highest(
          keymap.of([
            {
              key: "Shift-Enter",
              run: () => {
                this.check();
                return true; // handled: no newline, and the cell's Run binding does not fire
              },
            },
          ]),
        ),
      ),
    });
    this.runButton.after(this.checkButton);
    this.resetButton.after(this.hintButton, this.solutionButton, this.mark);

    this.result = document.createElement("div");
    this.result.className = "pyexercise-result";
    this.result.setAttribute("role", "status");
    this.result.setAttribute("aria-live", "polite");
    this.result.hidden = true;
    this.hintList = document.createElement("div");
    this.hintList.className = "pyexercise-hints";
    this.hintList.setAttribute("aria-live", "polite");
    this.solutionBox = document.createElement("div");
    this.solutionBox.className = "pyexercise-solution";
    this.solutionBox.hidden = true;
    this.output.before(this.result);
    this.root.append(this.hintList, this.solutionBox);

    this.checkButton.addEventListener("click", () => this.check());
    this.checkButton.addEventListener("pointerenter", () => this.kernel.warm());
    this.checkButton.addEventListener("focus", () => this.kernel.warm());
    this.hintButton.addEventListener("click", () => this.nextHint());
    this.solutionButton.addEventListener("click", () => this.askSolution());
  }

  filename() {
    return `<exercise ${this.id}>`;
  }

  /** Whether this browser remembers a passed check, on this page or its other-language twin. */
  passed() {
    return passedInEitherLanguage(this.id);
  }

  /** Show the passed mark when this browser remembers a passed check. */
  refreshPassed() {
    const passed = this.passed();
    this.mark.hidden = !passed;
    this.root.dataset.passed = passed ? "true" : "";
  }

  busy() {
    return [this.job, this.checkJob].some((job) => job && this.kernel.isBusyWith(job));
  }

  /** Run the reader's code, then the check in the same namespace (cancelled if the code fails). */
  check() {
    if (this.busy()) return;
    const chain = `exercise-check-${++checks}`;
    this.setResult("checking", this.t.checking);
    this.checkButton.disabled = true;
    this.enqueue(chain);
    this.checkJob = this.kernel.submit({
      code: this.checkCode,
      filename: `<check of ${this.id}>`,
      kind: "check",
      lang: pageLanguage(),
      chain,
      onStart: () => this.setStatus("running", this.t.checking),
      onOutput: (stream, text) => this.appendText(stream, text),
      onChart: (spec) => this.appendChart(spec),
      onDone: (status, info) => this.checked(status, info),
    });
  }

  stop() {
    super.stop();
    if (this.checkJob) this.kernel.stop(this.checkJob);
  }

  finish(status, info, started) {
    super.finish(status, info, started);
    if (this.checkJob && this.kernel.isBusyWith(this.checkJob)) {
      this.runButton.disabled = true; // the check runs next, on this code
      this.stopButton.disabled = false;
    }
    this.lastRun = status;
  }

  /** The check's outcome: passed, failed with its message, or why it did not run. */
  checked(status, info) {
    this.flushText();
    this.checkJob = null;
    this.checkButton.disabled = false;
    this.runButton.disabled = false;
    this.stopButton.disabled = true;
    const t = this.t;
    switch (status) {
      case "passed":
        this.setStatus("done", "");
        this.setResult("passed", t.passed);
        if (!markPassed(this.passKey)) this.note("storage", t.notSaved);
        this.refreshPassed();
        this.onPassed?.(this);
        break;
      case "failed":
        this.setStatus("done", "");
        this.attempted = true;
        this.setResult("failed", t.failed, info.detail || "");
        break;
      case "error":
        this.setStatus("error", t.error);
        this.attempted = true;
        this.setResult("error", t.checkError);
        break;
      case "cancelled":
        if (this.lastRun === "error") {
          this.attempted = true;
          this.setResult("error", t.codeError);
        } else {
          this.setResult("stopped", t.checkStopped);
        }
        break;
      case "fatal":
        this.setStatus("error", t.error);
        this.setResult("error", t.fatal(info.error));
        break;
      default:
        this.setStatus("stopped", t.stopped);
        this.setResult("stopped", t.checkStopped);
    }
  }

  /** The result line: a state and a message whose `names` are shown as code, never as HTML. */
  setResult(kind, lead, message = "") {
    this.result.hidden = false;
    this.result.dataset.result = kind;
    this.result.textContent = "";
    const strong = document.createElement("strong");
    strong.textContent = lead;
    this.result.append(strong);
    if (message) withCode(this.result, message);
  }

  nextHint() {
    if (this.shown >= this.hints.length) return;
    const t = this.t;
    const hint = document.createElement("p");
    hint.className = "pyexercise-hint";
    const label = document.createElement("strong");
    label.textContent = t.hintOf(this.shown + 1, this.hints.length);
    const body = document.createElement("span");
    // Built from the author's Markdown, raw HTML escaped, its math typeset (gradbook/pages/math.py).
    body.innerHTML = this.hints[this.shown];
    hint.append(label, body);
    this.hintList.append(hint);
    this.shown += 1;
    if (this.shown >= this.hints.length) {
      this.hintButton.disabled = true;
      this.hintButton.textContent = t.noMoreHints;
    }
  }

  /** After a first check the solution is one click away; before it, the reader confirms. */
  askSolution() {
    if (this.attempted || this.passed()) {
      this.showSolution();
      return;
    }
    const t = this.t;
    const show = button("pyexercise-solution-confirm", t.solutionShowAnyway, "");
    const cancel = button("pyexercise-solution-cancel", t.solutionCancel, "");
    show.addEventListener("click", () => {
      this.clearNote("solution");
      this.showSolution();
    });
    cancel.addEventListener("click", () => {
      this.clearNote("solution");
      this.solutionButton.focus();
    });
    this.note("solution", t.solutionConfirm, show, cancel);
    show.focus();
  }

  showSolution() {
    const t = this.t;
    this.solutionBox.textContent = "";
    const label = document.createElement("p");
    label.className = "pyexercise-solution-label";
    label.textContent = t.solutionLabel;
    const pre = document.createElement("pre");
    const code = document.createElement("code");
    code.className = "language-python";
    code.textContent = this.solutionCode;
    pre.append(code);
    pre.tabIndex = 0; // scrollable by keyboard
    pre.setAttribute("aria-label", t.solutionLabel);
    const use = button("pyexercise-use-solution", t.useSolution, t.useSolutionTitle);
    use.addEventListener("click", () => {
      this.setCodeQuietly(this.solutionCode);
      this.keep();
      this.showDiffers();
      this.checkButton.focus();
    });
    this.solutionBox.append(label, pre, use);
    this.solutionBox.hidden = false;
    use.focus();
  }
}

/**
 * The page's progress line at the top of its Exercises section (the h2 before the first exercise):
 * "2 of 3 checked exercises passed". Returns a function that recounts.
 */
export function progressLine(exercises, text) {
  if (exercises.length === 0) return () => {};
  const line = document.createElement("p");
  line.className = "pyexercise-progress";
  line.setAttribute("aria-live", "polite");
  const keys = document.createElement("p");
  keys.className = "pyexercise-keys";
  keys.textContent = text.exerciseKeys;
  const first = exercises[0].root;
  const heading = sectionHeading(first);
  if (heading) heading.after(line, keys);
  else first.before(line, keys);
  const count = () => {
    const passed = exercises.filter((ex) => ex.passed()).length;
    line.textContent = text.progress(passed, exercises.length);
    line.dataset.passed = String(passed);
    line.dataset.total = String(exercises.length);
  };
  count();
  return count;
}

/** The h2 that opens the section holding `el` (an exercise may sit inside a list item). */
function sectionHeading(el) {
  let node = el;
  while (node.parentElement && !node.parentElement.classList.contains("md-typeset")) {
    node = node.parentElement;
  }
  for (let prev = node.previousElementSibling; prev; prev = prev.previousElementSibling) {
    if (prev.tagName === "H2") return prev;
  }
  return null;
}

/** Make the page's exercises live on `kernel`; returns { exercises, teardown }. */
export function setupExercises(roots, kernel, text) {
  let recount = () => {};
  const exercises = roots.map(
    (root, index) => new ExerciseCell(root, index, { kernel, text, onPassed: () => recount() }),
  );
  recount = progressLine(exercises, text);
  return exercises;
}
