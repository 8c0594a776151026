// Knobs: sliders and choices bound to a cell's top-level variables, declared in the fence
// (```pycell knobs="depth:int:1..30, activation:choice:sigmoid|relu", see gradbook/pages/cells.py)
// and read here from data-knobs. Moving a knob rewrites the literal of the line `name = <literal>`
// in the cell's code; the cell then reruns (cell.js).

// The same pattern as gradbook/pages/cells.py (LITERAL, assignment): a string or a number literal.
const NUMBER = String.raw`[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)`;
const STRING = String.raw`"[^"\\\n]*"|'[^'\\\n]*'`;
const IS_NUMBER = new RegExp(`^${NUMBER}$`);

function assignment(name) {
  return new RegExp(
    String.raw`^(${name}[ \t]*=[ \t]*)(${STRING}|${NUMBER})(?=[ \t]*(?:#.*)?$)`,
    "m",
  );
}

/** The knobs a cell root declares, or [] (a malformed attribute is ignored, never fatal). */
export function knobSpecs(root) {
  try {
    const specs = JSON.parse(root.dataset.knobs || "[]");
    return Array.isArray(specs) ? specs : [];
  } catch {
    return [];
  }
}

/** The knob's value in code (a string for choices, a number otherwise), or null when not assigned. */
export function readValue(code, knob) {
  const match = assignment(knob.name).exec(code);
  if (!match) return null;
  const literal = match[2];
  if (knob.kind === "choice") {
    return /^["']/.test(literal) ? literal.slice(1, -1) : literal;
  }
  if (/^["']/.test(literal)) return null;
  return Number(literal.replaceAll("_", ""));
}

/** How a value is written into the code. */
export function formatValue(knob, value, quote = '"') {
  if (knob.kind === "int") return String(Math.round(Number(value)));
  if (knob.kind === "float") return Number(value).toFixed(knob.decimals ?? 2);
  return IS_NUMBER.test(value) ? value : `${quote}${value}${quote}`;
}

/** code with the knob's assignment set to value, or null when the code has no such line. */
export function writeValue(code, knob, value) {
  const pattern = assignment(knob.name);
  const match = pattern.exec(code);
  if (!match) return null;
  const quote = match[2][0] === "'" ? "'" : '"';
  const literal = formatValue(knob, value, quote);
  return (
    code.slice(0, match.index) + match[1] + literal + code.slice(match.index + match[0].length)
  );
}

/**
 * The knob controls of one cell: a labelled group of range inputs and selects.
 * onChange(knob, value, commit) fires while a slider moves (commit false) and when a value is
 * chosen (commit true: arrow keys, release of the pointer, a choice picked).
 */
export function createKnobs(specs, { idPrefix, text, onChange }) {
  const group = document.createElement("div");
  group.className = "pycell-knobs";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", text.knobsLabel);
  const controls = [];
  for (const knob of specs) {
    const row = document.createElement("div");
    row.className = "pycell-knob";
    row.dataset.name = knob.name;
    const id = `${idPrefix}-${knob.name}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    const name = document.createElement("code");
    name.textContent = knob.name;
    label.append(name);
    if (knob.label) {
      const words = document.createElement("span");
      words.className = "pycell-knob-label";
      words.textContent = knob.label;
      label.append(" ", words);
    }
    let input;
    let output = null;
    if (knob.kind === "choice") {
      input = document.createElement("select");
      for (const value of knob.values) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        input.append(option);
      }
      input.addEventListener("change", () => onChange(knob, input.value, true));
    } else {
      input = document.createElement("input");
      input.type = "range";
      input.min = String(knob.min);
      input.max = String(knob.max);
      input.step = String(knob.step);
      output = document.createElement("output");
      output.htmlFor = id;
      input.addEventListener("input", () => {
        show(knob, input, output, Number(input.value));
        onChange(knob, Number(input.value), false);
      });
      input.addEventListener("change", () => onChange(knob, Number(input.value), true));
    }
    input.id = id;
    input.className = "pycell-knob-input";
    row.append(label, input);
    if (output) row.append(output);
    group.append(row);
    controls.push({ knob, row, input, output });
  }

  /** Show the values the code holds now; a knob whose line is gone is marked missing. */
  const sync = (code) => {
    for (const { knob, row, input, output } of controls) {
      const value = readValue(code, knob);
      const known = knob.kind === "choice" ? knob.values.includes(value) : Number.isFinite(value);
      row.toggleAttribute("data-missing", value === null);
      if (!known) continue;
      if (knob.kind === "choice") input.value = value;
      else {
        input.value = String(value);
        show(knob, input, output, value);
      }
    }
  };
  return { element: group, sync };
}

function show(knob, input, output, value) {
  const shown = formatValue(knob, value);
  output.textContent = shown;
  input.setAttribute("aria-valuetext", shown);
}
