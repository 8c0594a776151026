// Typesets math for gradbook/pages/math.py at build time, with the KaTeX that make web copies
// into the site (web/node_modules/katex), so the pages' markup matches the site's katex.min.css.
// One JSON line in per page, [[tex, display], ...]; one line out, the HTML of each, same order.
// Usage: node katex_render.cjs <katex package dir>
const path = require("node:path");
const readline = require("node:readline");

const katex = require(path.resolve(process.argv[2], "dist", "katex.js"));
const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  const html = JSON.parse(line).map(([tex, display]) =>
    // throwOnError false: a formula KaTeX cannot parse shows as its source, marked .katex-error
    katex.renderToString(tex, { throwOnError: false, displayMode: display }),
  );
  process.stdout.write(`${JSON.stringify(html)}\n`);
});
