// The translation check run by `make test`: Khmer has every English key,
// nothing is left empty or untranslated, placeholders match, and every key
// the code uses exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const en = JSON.parse(readFileSync("src/i18n/en.json", "utf8"));
const km = JSON.parse(readFileSync("src/i18n/km.json", "utf8"));

// Values that are the same in both languages on purpose.
const sameInBoth = new Set(["CaseBridge", "{n}", "ID", "PDF"]);

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const khmer = /[\u1780-\u17FF]/;

test("every English key has a Khmer translation", () => {
  const missing = Object.keys(en).filter((k) => !(k in km));
  assert.deepEqual(missing, [], "keys missing in km.json");
});

test("Khmer has no key English lacks", () => {
  const extra = Object.keys(km).filter((k) => !(k in en));
  assert.deepEqual(extra, [], "keys in km.json but not in en.json");
});

test("no translation is empty or left in English", () => {
  const bad = Object.keys(en).filter((k) => {
    const v = km[k];
    if (typeof v !== "string" || v.trim() === "") return true;
    if (sameInBoth.has(en[k])) return false;
    return v === en[k] || !khmer.test(v);
  });
  assert.deepEqual(bad, [], "untranslated keys in km.json");
});

test("placeholders match", () => {
  const bad = Object.keys(en).filter(
    (k) => k in km && JSON.stringify(placeholders(en[k])) !== JSON.stringify(placeholders(km[k])),
  );
  assert.deepEqual(bad, [], "keys whose {placeholders} differ between en and km");
});

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) yield p;
  }
}

test("every key used in the code exists", () => {
  const used = new Set();
  for (const file of sources("src")) {
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(/\bt\(\s*"([\w.]+)"/g)) used.add(m[1]);
  }
  assert.ok(used.size > 20, `found only ${used.size} keys in use: the scan is broken`);
  const unknown = [...used].filter((k) => !(k in en));
  assert.deepEqual(unknown, [], "keys used in src/ but missing in en.json");
});
