// A small CodeMirror 6 editor: Python highlighting, history, bracket matching, Shift+Enter to run.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import {
  bracketMatching,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { tags } from "@lezer/highlight";

// Colours come from CSS variables (cells.css), so one style serves the light and the dark scheme.
const highlightStyle = HighlightStyle.define([
  {
    tag: [tags.keyword, tags.controlKeyword, tags.definitionKeyword],
    color: "var(--pycell-keyword)",
  },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--pycell-string)" },
  { tag: [tags.number, tags.bool, tags.null], color: "var(--pycell-number)" },
  { tag: tags.comment, color: "var(--pycell-comment)", fontStyle: "italic" },
  {
    tag: [tags.function(tags.variableName), tags.function(tags.propertyName)],
    color: "var(--pycell-function)",
  },
  { tag: [tags.definition(tags.variableName), tags.className], color: "var(--pycell-definition)" },
  { tag: [tags.operator, tags.punctuation], color: "var(--pycell-operator)" },
]);

/**
 * Create an editor in parent holding code; onRun is called on Shift+Enter or Ctrl/Cmd+Enter,
 * onChange after every change of the document (typed, pasted or set by setCode).
 */
export function createEditor(parent, code, { onRun, onChange, label }) {
  // A key binding returns true to say it handled the key.
  const run = () => {
    onRun();
    return true;
  };
  const runKeys = [
    { key: "Shift-Enter", run },
    { key: "Mod-Enter", run },
  ];
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: code,
      extensions: [
        lineNumbers(),
        history(),
        indentOnInput(),
        indentUnit.of("    "),
        bracketMatching(),
        python(),
        syntaxHighlighting(highlightStyle),
        keymap.of([...runKeys, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        // tabindex: the editor is focusable to axe too, so its scroller is a reachable region.
        EditorView.contentAttributes.of({ "aria-label": label, tabindex: "0" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange();
        }),
      ],
    }),
  });
}

/** Replace the whole document, e.g. to reset the cell to its original code. */
export function setCode(view, code) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } });
}

export function getCode(view) {
  return view.state.doc.toString();
}
