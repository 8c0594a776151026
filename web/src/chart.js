// Draws a gradbook.lite chart spec with uPlot (line and grouped bar charts, log axes, legend, titles).
import uPlot from "uplot";

// Okabe-Ito colours in gradbook.plot.PALETTE's order (black dropped, yellow last), so a cell's nth
// series has the colour of a figure's nth line. tests/test_palette.py keeps the two lists equal.
const PALETTE = [
  "#0072B2", // blue
  "#E69F00", // orange
  "#009E73", // bluish green
  "#D55E00", // vermillion
  "#CC79A7", // reddish purple
  "#56B4E9", // sky blue
  "#7F7F7F", // grey
  "#F0E442", // yellow
];
const HEIGHT = 320;

function theme(element) {
  const style = getComputedStyle(element);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: read("--md-default-fg-color--light", "#555"),
    grid: read("--md-default-fg-color--lightest", "#ddd"),
  };
}

function cleanValues(values, log) {
  return values.map((v) => {
    const n = typeof v === "number" ? v : v == null ? null : Number(v);
    if (n == null || !Number.isFinite(n) || (log && n <= 0)) return null;
    return n;
  });
}

// uPlot's default tick labels round tiny values to "0"; log axes need exponents.
function logTick(v) {
  if (v == null) return "";
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(0) : String(+v.toPrecision(6));
}

// Log axes: ticks and grid lines only at powers of ten, at most about eight of them.
function logSplits(_u, _axisIdx, min, max) {
  const lo = Math.ceil(Math.log10(min) - 1e-9);
  const hi = Math.floor(Math.log10(max) + 1e-9);
  const step = Math.max(1, Math.ceil((hi - lo + 1) / 8));
  const splits = [];
  for (let e = Math.ceil(lo / step) * step; e <= hi; e += step) splits.push(10 ** e);
  return splits;
}

// uPlot thins log-axis labels by mantissa; our splits are already sparse, so keep them all.
const LOG_AXIS = {
  splits: logSplits,
  filter: (_u, splits) => splits,
  values: (_u, splits) => splits.map(logTick),
};

function axis(label, colors, extra = {}) {
  return {
    label: label || "",
    stroke: colors.text,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.grid, width: 1 },
    ...extra,
  };
}

function lineOptions(spec, colors) {
  const x = cleanValues(spec.x || [], spec.logx);
  const series = spec.series || [];
  const data = [x, ...series.map((s) => cleanValues(s.values || [], spec.logy))];
  const options = {
    scales: {
      x: { time: false, distr: spec.logx ? 3 : 1 },
      y: { distr: spec.logy ? 3 : 1 },
    },
    axes: [
      axis(spec.xlabel, colors, spec.logx ? LOG_AXIS : {}),
      axis(spec.ylabel, colors, spec.logy ? LOG_AXIS : {}),
    ],
    series: [
      { label: spec.xlabel || "x" },
      ...series.map((s, i) => ({
        label: String(s.name),
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        points: { show: x.length <= 40 },
        spanGaps: false,
      })),
    ],
  };
  return { options, data };
}

function barOptions(spec, colors) {
  const categories = (spec.categories || []).map(String);
  const series = spec.series || [];
  const x = categories.map((_, i) => i);
  const groupWidth = 0.8;
  const barWidth = groupWidth / Math.max(series.length, 1);
  const data = [x, ...series.map((s) => cleanValues(s.values || [], spec.logy))];
  const options = {
    scales: {
      x: { time: false, range: () => [-0.5, categories.length - 0.5] },
      y: spec.logy
        ? { distr: 3 }
        : { range: (_u, min, max) => [Math.min(0, min), Math.max(0, max) * 1.05 || 1] },
    },
    axes: [
      axis(spec.xlabel, colors, {
        splits: () => x,
        values: (_u, splits) => splits.map((v) => categories[v] ?? ""),
        grid: { show: false },
      }),
      axis(spec.ylabel, colors, spec.logy ? LOG_AXIS : {}),
    ],
    series: [
      { label: spec.xlabel || "" }, // hidden in the legend by cells.css
      ...series.map((s, k) => ({
        label: String(s.name),
        stroke: PALETTE[k % PALETTE.length],
        fill: PALETTE[k % PALETTE.length],
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars({
          disp: {
            x0: { unit: 1, values: () => x.map((i) => i - groupWidth / 2 + k * barWidth) },
            size: { unit: 1, values: () => [barWidth] },
          },
        }),
      })),
    ],
    cursor: { points: { show: false } },
  };
  return { options, data };
}

/** Draw spec (an object) into container; returns an object with destroy(). */
export function drawChart(container, spec) {
  if (spec.kind !== "line" && spec.kind !== "bar")
    throw new Error(`unknown chart kind ${spec.kind}`);
  const colors = theme(container);
  const { options, data } =
    spec.kind === "bar" ? barOptions(spec, colors) : lineOptions(spec, colors);
  const width = Math.max(container.clientWidth, 280);
  const plot = new uPlot(
    { title: spec.title || "", width, height: HEIGHT, ...options },
    data,
    container,
  );
  container.dataset.kind = spec.kind;
  const resize = new ResizeObserver(() => {
    const w = Math.max(container.clientWidth, 280);
    if (Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: HEIGHT });
  });
  resize.observe(container);
  return {
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
