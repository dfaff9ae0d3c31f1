// The end-to-end harness: the real binary (`casebridge dev`: a private
// PostgreSQL cluster, the development identity provider, demo data) on a
// free loopback port, and Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { appendFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
export const screenshotDir = join(here, "screenshots");
export const outDir = join(here, "out");
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Every API response of the run (the browser's and the set-up calls'), one
 * JSON object per line, for the response-validation step: after the e2e
 * tests, `make e2e` checks each against api/openapi.yaml
 * (TestE2EResponsesConform in internal/app). package.json's e2e script
 * clears the file first; each test file's process appends to it.
 */
export const responsesFile = join(outDir, "api-responses.jsonl");

function recordResponse(method, url, status, contentType, body) {
  const u = new URL(url);
  if (!u.pathname.startsWith("/api/")) return;
  mkdirSync(outDir, { recursive: true });
  appendFileSync(
    responsesFile,
    JSON.stringify({ method, path: u.pathname + u.search, status, content_type: contentType ?? "", body }) + "\n",
  );
}

async function recordPageResponse(res) {
  const ct = res.headers()["content-type"] ?? "";
  let body = null;
  if (/json/.test(ct) && res.request().method() !== "HEAD") {
    try {
      body = await res.text();
    } catch {
      body = null; // the page went away first: status and type are still checked
    }
  }
  recordResponse(res.request().method(), res.url(), res.status(), ct, body);
}

/** Starts `casebridge dev` on a free port with a fresh data directory. */
export async function startServer() {
  const bin = process.env.CASEBRIDGE_BIN ?? join(repo, "bin/casebridge");
  assert.ok(existsSync(bin), `${bin} is missing: run make build first`);
  mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), "casebridge-e2e-"));
  const port = await freePort();
  const idpPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(outDir, "server.log"));
  const proc = spawn(bin, [
      "dev",
      "--data-dir",
      dataDir,
      "--listen",
      `127.0.0.1:${port}`,
      "--idp-listen",
      `127.0.0.1:${idpPort}`,
    ], {
    cwd: repo,
    env: { ...process.env, CASEBRIDGE_LOG_LEVEL: process.env.CASEBRIDGE_LOG_LEVEL ?? "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout.pipe(log, { end: false });
  let output = "";
  proc.stdout.on("data", (b) => {
    output += b.toString();
  });
  proc.stderr.pipe(log, { end: false });
  let exited = null;
  proc.on("exit", (code, signal) => {
    exited = { code, signal };
  });
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (exited) {
      throw new Error(`casebridge dev exited (${JSON.stringify(exited)}); see ${join(outDir, "server.log")}`);
    }
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`casebridge dev not ready in time; see ${join(outDir, "server.log")}`);
    await sleep(250);
  }
  return {
    base,
    /** Everything the server printed so far (e.g. the dev webhook receiver's lines). */
    output: () => output,
    async stop() {
      if (!exited) {
        proc.kill("SIGINT");
        const until = Date.now() + 30_000;
        while (!exited && Date.now() < until) await sleep(100);
        if (!exited) proc.kill("SIGKILL");
      }
      log.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches Debian's Chromium, headless, with no network beyond loopback. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  assert.ok(existsSync(executablePath), `${executablePath} is missing: apt-get install chromium`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A fresh browser context (its own cookies) with a page that records
 * console errors and CSP violations, which fail the test at `check()`.
 */
export async function newPage(browser, { locale = "en-GB" } = {}) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    // An API answer of 4xx is logged by the browser as a failed resource;
    // the tests provoke some (validation, 412) and check the message shown.
    // Other errors (a CSP violation, an exception, a 5xx) are defects.
    if (msg.type() === "error" && !/responded with a status of 4\d\d/.test(msg.text())) problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("response", (res) => {
    recordPageResponse(res).catch(() => {});
  });
  page.problems = problems;
  openPages.add(page);
  page.on("close", () => openPages.delete(page));
  return page;
}

const openPages = new Set();

/** Wraps a test body: when it fails, every open page is screenshotted as FAIL-name-N.png. */
export function guarded(name, fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      let i = 0;
      for (const page of openPages) {
        await screenshot(page, `FAIL-${name}-${i++}`).catch(() => {});
      }
      throw err;
    }
  };
}

/** Signs in through the app: redirect to the dev provider's real login page, pick the account. */
export async function signIn(page, base, username, path = "/") {
  await page.goto(base + path);
  // The app sends the browser to /auth/login, which redirects to the provider.
  const button = page.getByRole("button", { name: `Sign in as ${username}`, exact: true });
  await button.waitFor({ timeout: 30_000 });
  assert.ok(!page.url().startsWith(base + "/"), `expected the provider's login page, at ${page.url()}`);
  await button.click();
  await page.waitForURL((u) => u.href.startsWith(base + "/"), { timeout: 30_000 });
  await page.getByTestId("whoami").waitFor({ timeout: 30_000 });
}

/** Saves a full-page screenshot as test output. */
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Runs axe-core on the page and fails on serious or critical violations of
 * WCAG 2.x A/AA. axe is evaluated over the DevTools protocol, so the app's
 * CSP (script-src 'self') stays on.
 */
export async function checkA11y(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      resultTypes: ["violations"],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${name}: accessibility violations:\n${JSON.stringify(bad, null, 2)}`);
  return result;
}

/** Switches the app to Khmer with the language control and back. */
export async function setLanguage(page, lang) {
  const select = page.getByTestId("whoami").locator("select");
  await select.selectOption(lang);
  await page.locator(`html[lang="${lang}"]`).waitFor();
}

/** Fails when the page logged errors (CSP violations, exceptions). */
export function assertNoPageErrors(page) {
  assert.deepEqual(page.problems, [], "the page logged errors");
}

/**
 * The API as the signed-in user of page's context: the same session
 * cookie, plus the CSRF token for writes. For test set-up only; the tests
 * assert through the screens.
 */
export async function apiOf(page, base) {
  const req = page.context().request;
  const meRes = await req.get(`${base}/api/v1/me`);
  assert.equal(meRes.status(), 200, "GET /api/v1/me");
  const me = await meRes.json();
  const headers = { "X-CSRF-Token": me.csrf_token ?? "", Accept: "application/json" };
  const call = async (method, path, body, extra = {}) => {
    const res = await req.fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}), ...extra },
      data: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    recordResponse(method, `${base}${path}`, res.status(), res.headers()["content-type"], /json/.test(res.headers()["content-type"] ?? "") ? text : null);
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status(), json, headers: res.headers(), text };
  };
  return {
    me,
    get: (path) => call("GET", path),
    post: (path, body, extra) => call("POST", path, body, extra),
    patch: (path, body, extra) => call("PATCH", path, body, extra),
    del: (path) => call("DELETE", path),
  };
}

/** Visits a screen, checks its heading, saves a screenshot, runs axe, and checks Khmer labels. */
export async function checkScreen(page, name, { heading, khmer }) {
  await page.getByRole("heading", { level: 1, name: heading }).waitFor({ timeout: 30_000 });
  await screenshot(page, name);
  await checkA11y(page, name);
  if (khmer) {
    await setLanguage(page, "km");
    await page.getByRole("heading", { level: 1, name: khmer }).waitFor({ timeout: 30_000 });
    await screenshot(page, `${name}-km`);
    await checkA11y(page, `${name} (Khmer)`);
    await setLanguage(page, "en");
    await page.getByRole("heading", { level: 1, name: heading }).waitFor({ timeout: 30_000 });
  }
}
