// Court bundles (issue 11): the clerk of the Phnom Penh court lands on the
// cases before their court (the demo's sealed Tuol Kork bundle listed),
// opens the Tuol Kork case, creates a bundle, puts documents into two
// sections, reorders by keyboard (the move announced to screen readers)
// and by drag and drop, builds it (the progress bar is seen), previews the
// index, seals it after the confirmation, downloads the PDF and the
// manifest, and the PDF's SHA-256 equals the manifest's pdf_sha256. The
// bundle screens are checked with axe and in Khmer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  apiOf,
  assertNoPageErrors,
  checkA11y,
  checkScreen,
  guarded,
  launchBrowser,
  newPage,
  screenshot,
  setLanguage,
  signIn,
  startServer,
} from "./harness.mjs";

const refTuolKork = "GDI-2026-000002"; // internal/demo/world.go RefTuolKork

let server;
let browser;
const s = { docs: [] };

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

/** A small, well-formed one-page PDF (cross-reference table and all) saying `text`. */
function onePagePdf(text) {
  const content = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Set-up through the API: the owner agency's officer files four
  // documents on the Tuol Kork case (two PDFs, a text, a PDF); every
  // assertion below goes through the screens.
  const page = await newPage(browser);
  await signIn(page, server.base, "gdi-officer");
  const api = await apiOf(page, server.base);
  const list = await api.get(`/api/v1/cases?q=${encodeURIComponent(refTuolKork)}`);
  assert.equal(list.status, 200, list.text);
  s.case = list.json.items.find((c) => c.reference === refTuolKork);
  assert.ok(s.case, `${refTuolKork} not in the officer's cases`);
  const req = page.context().request;
  const files = [
    { title: `Charge sheet ${process.pid}`, kind: "charge_sheet", name: "charge-sheet.pdf", type: "application/pdf", body: onePagePdf("Charge sheet") },
    { title: `Arrest report ${process.pid}`, kind: "police_report", name: "arrest-report.pdf", type: "application/pdf", body: onePagePdf("Arrest report") },
    { title: `Interpreter statement ${process.pid}`, kind: "statement", name: "statement.txt", type: "text/plain", body: Buffer.from("Statement of the interpreter.\nRead back in Mandarin and signed.\n") },
    { title: `Detention order ${process.pid}`, kind: "court_order", name: "detention-order.pdf", type: "application/pdf", body: onePagePdf("Detention order") },
  ];
  for (const f of files) {
    const res = await req.post(`${server.base}/api/v1/cases/${s.case.id}/documents`, {
      headers: { "X-CSRF-Token": api.me.csrf_token ?? "", Accept: "application/json" },
      multipart: {
        metadata: {
          name: "metadata.json",
          mimeType: "application/json",
          buffer: Buffer.from(JSON.stringify({ title: f.title, kind: f.kind, classification: "restricted", consular_releasable: false })),
        },
        file: { name: f.name, mimeType: f.type, buffer: f.body },
      },
    });
    assert.equal(res.status(), 201, `upload ${f.title}: ${await res.text()}`);
    s.docs.push({ ...(await res.json()), title: f.title });
  }
  await page.context().close();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("court bundles", () => {
  test("clerk: build, seal and download a bundle; the PDF's SHA-256 is the manifest's", guarded("bundles", async () => {
    const [charges, arrest, statement, order] = s.docs;
    const page = await newPage(browser);
    await signIn(page, server.base, "court-clerk");

    // The clerk lands on the cases before their court, with the bundles.
    await page.waitForURL((u) => u.pathname === "/court/cases", { timeout: 30_000 });
    await checkScreen(page, "court-cases", { heading: "Cases before the court", khmer: "សំណុំរឿងនៅចំពោះមុខតុលាការ" });
    const before = page.getByRole("region", { name: "Before the court" });
    const row = before.getByRole("row").filter({ hasText: refTuolKork });
    await row.waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Court cases" }).waitFor();

    await row.getByRole("link", { name: refTuolKork }).click();
    await page.waitForURL((u) => u.pathname === `/cases/${s.case.id}`);
    const section = page.getByRole("region", { name: "Court bundles" });
    await section.waitFor();

    // A new bundle: title, hearing date (the case's), numbering.
    await section.getByRole("button", { name: "New bundle" }).click();
    const form = section.getByRole("form", { name: "New bundle" });
    const title = `Hearing bundle ${process.pid}`;
    await form.getByLabel("Bundle title").fill(title);
    assert.ok(await form.getByLabel("Hearing date").inputValue(), "the hearing date starts as the case's");
    await form.getByLabel(/Consecutive from 1/).check();
    await form.getByRole("button", { name: "Create the bundle" }).click();
    // By test id, not inside the region found by its English name: the Khmer checks use it too.
    const bundle = page.getByTestId("bundle");
    await bundle.getByRole("heading", { name: new RegExp(title) }).waitFor();
    await bundle.locator('[data-state="draft"]').waitFor();

    // Two sections, documents into each (a version of each, the current one).
    for (const name of ["Charges", "Evidence"]) {
      const add = bundle.getByRole("form", { name: "Add section" });
      await add.getByRole("textbox").fill(name);
      await add.getByRole("button", { name: "Add section" }).click();
    }
    const addDoc = bundle.getByRole("form", { name: "Add a document" });
    for (const [doc, into] of [
      [charges, "A. Charges"],
      [order, "A. Charges"],
      [arrest, "B. Evidence"],
      [statement, "B. Evidence"],
    ]) {
      await addDoc.getByLabel("Document").selectOption({ label: doc.title });
      await addDoc.getByLabel("Into section").selectOption({ label: into });
      await addDoc.getByRole("button", { name: "Add to the section" }).click();
    }
    const items = (label) => bundle.getByRole("list", { name: `Documents of section ${label}` }).getByRole("listitem");
    const titles = async (label) =>
      (await items(label).locator(".item-title").allTextContents()).map((x) => x.trim());
    assert.deepEqual(await titles("A"), [charges.title, order.title]);
    assert.deepEqual(await titles("B"), [arrest.title, statement.title]);
    await screenshot(page, "bundle-draft");
    await checkA11y(page, "bundle draft");

    // Keyboard: focus "Move up: <statement>" and press Enter; the move is
    // announced in the live region and keyboard focus stays on the item.
    const up = bundle.getByRole("button", { name: `Move up: ${statement.title}` });
    await up.focus();
    await page.keyboard.press("Enter");
    const live = bundle.getByTestId("bundle-announce");
    assert.equal(await live.getAttribute("aria-live"), "polite");
    await page.waitForFunction(
      (el) => el.textContent.includes("position 1 of 2 in section B"),
      await live.elementHandle(),
    );
    assert.match(await live.textContent(), new RegExp(`Moved “${statement.title}” to position 1 of 2 in section B Evidence`));
    assert.deepEqual(await titles("B"), [statement.title, arrest.title]);
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? "");
    assert.equal(focused, `Move up: ${statement.title}`, "focus follows the moved document");

    // Drag and drop: the detention order before the charge sheet.
    await items("A").filter({ hasText: order.title }).dragTo(items("A").filter({ hasText: charges.title }));
    assert.deepEqual(await titles("A"), [order.title, charges.title]);
    assert.match(await live.textContent(), new RegExp(`Moved “${order.title}” to position 1 of 2 in section A Charges`));

    // Build (saving first): the progress bar is seen, then the bundle is built.
    await bundle.getByRole("button", { name: "Save and build" }).click();
    const bar = bundle.getByRole("progressbar");
    await bar.waitFor({ timeout: 30_000 });
    const now = Number(await bar.getAttribute("value"));
    assert.ok(now >= 0 && now <= 100, `progress value ${now}`);
    await screenshot(page, "bundle-building");
    await bundle.locator('[data-state="built"]').waitFor({ timeout: 120_000 });
    assert.equal(await bundle.getByRole("progressbar").count(), 0);

    // The index preview: sections, titles in the new order, page ranges.
    const index = bundle.getByRole("table", { name: "Index of the built bundle" });
    await index.waitFor();
    const rows = await index.locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim())),
    );
    assert.deepEqual(
      rows.map((r) => r[1]),
      [order.title, charges.title, statement.title, arrest.title],
      "index order",
    );
    assert.match(rows[0][0], /^A\. Charges/);
    assert.match(rows[2][0], /^B\. Evidence/);
    let last = 0;
    for (const r of rows) {
      const m = /^(\d+)(?:–(\d+))?$/.exec(r[3]);
      assert.ok(m, `page range "${r[3]}" for ${r[1]}`);
      const first = Number(m[1]);
      assert.ok(first > last, `pages of ${r[1]} (${r[3]}) follow the previous document's`);
      last = Number(m[2] ?? m[1]);
    }
    await screenshot(page, "bundle-built");
    await checkA11y(page, "bundle built");

    // Khmer labels on the bundle screen.
    await setLanguage(page, "km");
    await page.getByRole("heading", { level: 2, name: "សំណុំឯកសារសម្រាប់តុលាការ" }).waitFor();
    await bundle.getByRole("button", { name: "បិទត្រាសំណុំឯកសារ" }).waitFor();
    await bundle.getByRole("link", { name: "ទាញយក PDF" }).waitFor();
    await bundle.getByRole("table", { name: "បញ្ជីមាតិកានៃសំណុំឯកសារដែលបានចងក្រង" }).waitFor();
    assert.match(await bundle.locator('[data-state="built"]').textContent(), /បានចងក្រង/);
    await screenshot(page, "bundle-built-km");
    await checkA11y(page, "bundle built (Khmer)");
    await setLanguage(page, "en");

    // Seal, after a confirmation that says what sealing means.
    await bundle.getByRole("button", { name: "Seal the bundle" }).click();
    const dialog = page.getByRole("alertdialog", { name: `Seal “${title}”?` });
    await dialog.waitFor();
    const said = await dialog.textContent();
    for (const what of [/contents and its PDF/, /legal hold/, /cannot be edited or rebuilt/, /new version/]) {
      assert.match(said, what);
    }
    await checkA11y(page, "seal confirmation");
    await dialog.getByRole("button", { name: "Seal it" }).click();
    await bundle.locator('[data-state="sealed"]').waitFor({ timeout: 30_000 });
    assert.equal(await bundle.getByRole("button", { name: "Seal the bundle" }).count(), 0, "a sealed bundle offers no seal");
    assert.equal(await bundle.getByRole("button", { name: "Save and build" }).count(), 0, "a sealed bundle is not edited");
    await screenshot(page, "bundle-sealed");

    // Downloads: the PDF and the manifest; the PDF's hash is the manifest's.
    const [pdfDl] = await Promise.all([page.waitForEvent("download"), bundle.getByRole("link", { name: "Download the PDF" }).click()]);
    const pdf = readFileSync(await pdfDl.path());
    assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
    assert.match(pdfDl.suggestedFilename(), new RegExp(`^${refTuolKork}-bundle-v1\\.pdf$`));
    const [manDl] = await Promise.all([
      page.waitForEvent("download"),
      bundle.getByRole("link", { name: "Download the manifest (JSON)" }).click(),
    ]);
    const manifest = JSON.parse(readFileSync(await manDl.path(), "utf8"));
    assert.equal(manifest.pdf_sha256, sha256(pdf), "the downloaded PDF's SHA-256 is the manifest's pdf_sha256");
    assert.equal(manifest.case_reference, refTuolKork);
    assert.ok(manifest.sealed_at, "the manifest of a sealed bundle has sealed_at");
    assert.deepEqual(
      manifest.sources.map((x) => [x.section, x.document_id, x.version]),
      [
        ["A", order.id, order.version],
        ["A", charges.id, charges.version],
        ["B", statement.id, statement.version],
        ["B", arrest.id, arrest.version],
      ],
    );
    // The screen shows the same hash.
    assert.equal((await bundle.locator("code.hash").textContent()).trim(), manifest.pdf_sha256);

    // Late documents go into the next version, based on the sealed one.
    await bundle.getByRole("button", { name: "Add late documents" }).click();
    await bundle.getByRole("heading", { name: new RegExp(`${title} v2`) }).waitFor({ timeout: 30_000 });
    await bundle.getByRole("heading", { name: "Late additions" }).waitFor();
    await bundle.getByRole("heading", { name: "Sealed contents (unchanged)" }).waitFor();
    await checkA11y(page, "late additions");

    // Back on the home screen the new bundles are listed with their states.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Court cases" }).click();
    const row2 = page.getByRole("region", { name: "Before the court" }).getByRole("row").filter({ hasText: refTuolKork });
    await row2.getByRole("link", { name: `${title} (v2)` }).waitFor();
    await row2.getByRole("link", { name: `${title} (v1)` }).waitFor();
    // The demo's sealed bundle (internal/demo) is listed with its state too.
    const demoSealed = row2.getByRole("listitem").filter({ hasNotText: title }).filter({ has: page.locator('[data-state="sealed"]') });
    await demoSealed.first().waitFor({ timeout: 10_000 });
    assert.match(await demoSealed.first().textContent(), /Sealed/);
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("another agency sees nothing: the case's bundles are 404 for an embassy that cannot see the case", guarded("bundles-other", async () => {
    // The clerk sees the case's bundles (so the route is there)…
    const clerk = await newPage(browser);
    await signIn(clerk, server.base, "court-clerk");
    const mine = await (await apiOf(clerk, server.base)).get(`/api/v1/cases/${s.case.id}/bundles`);
    assert.equal(mine.status, 200, mine.text);
    assert.ok(mine.json.items.length > 0, "the clerk sees the Tuol Kork bundles");
    const one = mine.json.items[0].id;
    await clerk.context().close();
    // …and a liaison of an embassy with no national in the case gets 404 on
    // the list and on the bundle itself, not 403: nothing is there for them.
    const page = await newPage(browser);
    await signIn(page, server.base, "emb-us-liaison");
    const api = await apiOf(page, server.base);
    for (const path of [`/api/v1/cases/${s.case.id}/bundles`, `/api/v1/bundles/${one}`, `/api/v1/bundles/${one}/pdf`]) {
      const r = await api.get(path);
      assert.equal(r.status, 404, `${path}: ${r.text}`);
    }
    await page.context().close();
  }));
});
