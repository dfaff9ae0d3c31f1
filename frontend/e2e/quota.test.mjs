// Immigration officer: an upload over the agency's daily upload quota
// (documents.agency_daily_quota, set small for this file's server) is
// refused with a message saying so, in English and Khmer, and the case
// gains no document. A file within the quota is uploaded as usual. The
// officer is counter-trafficking's: the demo uploads documents of the
// immigration department's Tuol Kork bundle at start, which count against
// that agency's quota of the day.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  apiOf,
  assertNoPageErrors,
  checkA11y,
  guarded,
  launchBrowser,
  newPage,
  outDir,
  screenshot,
  setLanguage,
  signIn,
  startServer,
} from "./harness.mjs";

const quota = 4000;
let server;
let browser;

before(async () => {
  process.env.CASEBRIDGE_DOCUMENTS_AGENCY_DAILY_QUOTA = String(quota);
  server = await startServer();
  delete process.env.CASEBRIDGE_DOCUMENTS_AGENCY_DAILY_QUOTA;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function pdfOfSize(name, size) {
  const head = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n";
  const tail = "trailer << /Root 1 0 R >>\n%%EOF\n";
  const body = head + "%".padEnd(size - head.length - tail.length - 1, "q") + "\n" + tail;
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, name);
  writeFileSync(path, body);
  return path;
}

async function upload(page, title, file) {
  const form = page.getByRole("form", { name: "Upload a document" });
  await form.getByLabel("Title").fill(title);
  await form.getByLabel("Kind of document").selectOption("other");
  await form.getByLabel("Classification").selectOption("restricted");
  await form.getByLabel("File").setInputFiles(file);
  await form.getByRole("button", { name: "Upload" }).click();
}

describe("upload quota", () => {
  test("counter-trafficking officer: an upload over the agency's daily quota is refused, in English and Khmer", guarded("quota", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "ncct-officer");
    const api = await apiOf(page, server.base);
    const created = await api.post("/api/v1/cases", { title: "Quota check, Phnom Penh", kind: "illegal_work" });
    assert.equal(created.status, 201, created.text);
    await page.goto(`${server.base}/cases/${created.json.id}`);
    await page.getByRole("heading", { level: 1, name: /Quota check/ }).waitFor();

    // Within the quota: uploaded.
    await upload(page, "Statement within the quota", pdfOfSize("quota-small.pdf", 3000));
    await page.getByText("“Statement within the quota” was uploaded.").waitFor({ timeout: 60_000 });

    // 3,000 of 4,000 bytes used: a 2,000-byte file is refused.
    await upload(page, "Statement over the quota", pdfOfSize("quota-large.pdf", 2000));
    const alert = page.getByRole("alert").filter({ hasText: "daily upload quota" });
    await alert.waitFor({ timeout: 60_000 });
    assert.match(await alert.innerText(), /nothing was kept/);
    await screenshot(page, "upload-quota-refused");
    await checkA11y(page, "upload refused over the quota");
    await setLanguage(page, "km");
    await page.getByRole("alert").filter({ hasText: "កូតាផ្ទុកឯកសារឡើងប្រចាំថ្ងៃ" }).waitFor();
    await screenshot(page, "upload-quota-refused-km");
    await checkA11y(page, "upload refused over the quota (Khmer)");
    await setLanguage(page, "en");

    // The case holds only the first document.
    const docs = await api.get(`/api/v1/cases/${created.json.id}/documents`);
    assert.equal(docs.status, 200, docs.text);
    assert.deepEqual(docs.json.items.map((d) => d.title), ["Statement within the quota"]);
    assertNoPageErrors(page);
    await page.context().close();
  }));
});
