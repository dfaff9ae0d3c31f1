// Reports the initial JavaScript a browser downloads before the first
// screen (the entry chunk and its static imports, gzipped) and fails the
// build when it exceeds the budget. Route chunks load on demand and are
// listed separately.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const budget = 250 * 1024;
const dir = new URL("../dist/app/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const entry = Object.values(manifest).find((c) => c.isEntry);
if (!entry) throw new Error("no entry chunk in dist/app/manifest.json");

const seen = new Set();
function walk(key) {
  const chunk = manifest[key];
  if (!chunk || seen.has(chunk.file)) return;
  seen.add(chunk.file);
  for (const imp of chunk.imports ?? []) walk(imp);
}
const entryKey = Object.keys(manifest).find((k) => manifest[k] === entry);
walk(entryKey);

const gz = (file) => gzipSync(readFileSync(join(dir, file)), { level: 9 }).length;
let initial = 0;
for (const f of seen) if (f.endsWith(".js")) initial += gz(f);
const css = (entry.css ?? []).reduce((n, f) => n + gz(f), 0);
const lazy = Object.values(manifest)
  .filter((c) => c.file.endsWith(".js") && !seen.has(c.file))
  .map((c) => gz(c.file));
const kb = (n) => (n / 1024).toFixed(1) + " kB";
console.log(
  `bundle: initial JS ${kb(initial)} gzipped (budget ${kb(budget)}), CSS ${kb(css)}, ` +
    `${lazy.length} on-demand chunks, largest ${kb(Math.max(0, ...lazy))}`,
);
if (initial > budget) {
  console.error(`bundle: initial JavaScript ${kb(initial)} exceeds the budget of ${kb(budget)}`);
  process.exit(1);
}
