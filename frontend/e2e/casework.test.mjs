// The main task of every user group, on one case, in order:
//   immigration officer: open a case, record two detained foreigners (a
//     Chinese and a Vietnamese national), upload a document (progress bar,
//     on a throttled link) and download it again byte for byte; an edit
//     conflict (412) is explained and reloads;
//   embassy liaisons: China sees its national and not Viet Nam's, and
//     downloads the document released to it; Viet Nam the other way round;
//   immigration supervisor: refer the case to court, share it with an
//     embassy (the case appears there) and revoke the share (it is gone);
//   court clerk and ministry coordinator: the case is in their list;
//   counter-trafficking: a person flagged by the officer shows up among the
//     possible victims, and the screening is recorded;
//   admin: the audit trail shows what happened; no case content.
// Each main screen is screenshotted, checked with axe-core, and checked in Khmer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  apiOf,
  assertNoPageErrors,
  checkA11y,
  checkScreen,
  guarded,
  launchBrowser,
  newPage,
  outDir,
  screenshot,
  setLanguage,
  signIn,
  startServer,
} from "./harness.mjs";

let server;
let browser;
const state = {};

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A real PDF file of about 1.5 MB (the server sniffs content, not names). */
function makePdf() {
  const filler = "%" + "casebridge e2e evidence ".repeat(60) + "\n";
  const body = [
    "%PDF-1.4",
    "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
    "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj",
    "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj",
    filler.repeat(1000),
    "trailer << /Root 1 0 R >>",
    "%%EOF",
  ].join("\n");
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, "passport-scan.pdf");
  writeFileSync(path, body);
  return path;
}

// A facility of the test's own, so list filters find the test's persons among the demo data.
const facility = `E2E holding facility ${process.pid}`;
const nationalsUrl = () => `/consular/nationals?facility=${encodeURIComponent(facility)}`;

const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

describe("case work across agencies", () => {
  test("immigration officer: open a case, record persons, upload and download a document", guarded("officer", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer");
    const nav = page.getByRole("navigation", { name: "Main" });

    await nav.getByRole("link", { name: "Cases", exact: true }).click();
    await checkScreen(page, "cases-list", { heading: "Cases", khmer: "សំណុំរឿង" });

    await nav.getByRole("link", { name: "New case" }).click();
    await checkScreen(page, "case-new", { heading: "Open a case file", khmer: "បើកសំណុំរឿងថ្មី" });
    // An empty title is refused by the API, and the message sits by the field.
    await page.getByRole("button", { name: "Open case" }).click();
    await page.getByText("is required").first().waitFor();
    await page.getByLabel("Title").fill("Raid at the Golden Lotus compound, Sihanoukville");
    await page.getByLabel("Kind of case").selectOption("illegal_entry");
    await page.getByLabel("Operation name").fill("Operation Golden Lotus");
    await page.getByLabel("Place", { exact: true }).fill("Sihanoukville");
    await page.getByLabel("Summary").fill("222 foreigners detained, 3 with valid passports.");
    await page.getByRole("button", { name: "Open case" }).click();
    await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
    state.caseUrl = new URL(page.url()).pathname;
    state.caseId = state.caseUrl.split("/").pop();
    await page.getByRole("heading", { level: 1, name: /Golden Lotus/ }).waitFor();

    // Facilities are a managed list: register the test's own, then pick it.
    const officerApi = await apiOf(page, server.base);
    const reg = await officerApi.post("/api/v1/facilities", { name: facility, kind: "detention_centre" });
    assert.equal(reg.status, 201, `register ${facility}: ${reg.text}`);

    for (const p of [
      { family: "Wang", given: "Lei", sex: "male", nat: "CN", passport: "E12345678" },
      { family: "Tran", given: "Thi Mai", sex: "female", nat: "VN", passport: "" },
    ]) {
      await page.getByRole("link", { name: "Add a person" }).click();
      await page.getByRole("heading", { level: 1, name: "Add a person" }).waitFor();
      await page.getByLabel("Family name").fill(p.family);
      await page.getByLabel("Given names").fill(p.given);
      await page.getByLabel("Sex").selectOption(p.sex);
      await page.getByLabel("Nationality").fill(p.nat);
      await page.getByLabel("Passport number").fill(p.passport);
      await page.getByLabel("Custody status").selectOption("detained");
      await page.getByLabel("Detention facility").selectOption(facility);
      await page.getByRole("button", { name: "Save person" }).click();
      await page.waitForURL((u) => u.pathname === state.caseUrl);
      await page.getByRole("link", { name: `${p.family} ${p.given}` }).waitFor();
    }

    // Upload on a slow link: the progress bar shows the bytes going up.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 40,
      downloadThroughput: 2_000_000,
      uploadThroughput: 400_000,
    });
    const pdf = makePdf();
    const upload = page.getByRole("form", { name: "Upload a document" });
    await upload.getByLabel("Title").fill("Passport scan, Wang Lei");
    await upload.getByLabel("Kind of document").selectOption("passport");
    await upload.getByLabel("Classification").selectOption("restricted");
    // "About person" is a search over the case's persons (issue 14, defect 5).
    await upload.getByRole("combobox", { name: "About person" }).fill("Wang");
    await upload.getByRole("listbox").getByRole("option", { name: "Wang Lei" }).click();
    await upload.getByTestId("picked-person").filter({ hasText: "Wang Lei" }).waitFor();
    await upload.getByLabel("May be released to the person's embassy").check();
    await upload.getByLabel("File").setInputFiles(pdf);
    await upload.getByRole("button", { name: "Upload" }).click();
    const bar = page.locator("progress#upload-progress");
    await bar.waitFor();
    const seen = [];
    for (let i = 0; i < 40 && (await bar.count()) > 0; i++) {
      const v = await bar.getAttribute("value").catch(() => null);
      if (v !== null) seen.push(Number(v));
      await page.waitForTimeout(100);
    }
    await page.getByText("“Passport scan, Wang Lei” was uploaded.").waitFor({ timeout: 60_000 });
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    assert.ok(seen.some((v) => v > 0 && v < readFileSync(pdf).length), `progress values seen: ${seen}`);

    // Download: the same bytes come back.
    const row = page.getByRole("row", { name: /Passport scan, Wang Lei/ });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      row.getByRole("link", { name: /Download/ }).click(),
    ]);
    const got = readFileSync(await download.path());
    assert.equal(sha256(got), sha256(readFileSync(pdf)), "downloaded bytes differ from the upload");

    await checkScreen(page, "case-page", { heading: /Golden Lotus/ });
    await setLanguage(page, "km");
    await page.getByRole("heading", { level: 2, name: "ឯកសារ", exact: true }).waitFor();
    await page.getByRole("heading", { level: 2, name: "បុគ្គល" }).waitFor();
    await screenshot(page, "case-page-km");
    await checkA11y(page, "case page (Khmer)");
    await setLanguage(page, "en");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("immigration officer: an edit conflict is explained, with a reload", guarded("conflict", async () => {
    const a = await newPage(browser);
    await signIn(a, server.base, "gdi-officer", `${state.caseUrl}/edit`);
    await a.getByRole("heading", { level: 1, name: /Edit case/ }).waitFor();
    // Someone else saves first (the same form in a second tab).
    const b = await a.context().newPage();
    await b.goto(server.base + `${state.caseUrl}/edit`);
    await b.getByLabel("Title").fill("Raid at the Golden Lotus compound (Sihanoukville)");
    await b.getByRole("button", { name: "Save" }).click();
    await b.waitForURL((u) => u.pathname === state.caseUrl);

    await a.getByLabel("Summary").fill("A stale edit.");
    await a.getByRole("button", { name: "Save" }).click();
    await a.getByRole("heading", { name: "This record has changed" }).waitFor();
    await screenshot(a, "case-edit-conflict");
    await a.getByRole("button", { name: "Reload" }).click();
    await a.getByLabel("Title").and(a.locator('[value="Raid at the Golden Lotus compound (Sihanoukville)"]')).waitFor();
    await a.context().close();
  }));

  test("embassy liaisons see their own nationals only", guarded("embassy", async () => {
    const cn = await newPage(browser);
    await signIn(cn, server.base, "emb-cn-liaison");
    await checkScreen(cn, "embassy-nationals", { heading: "Detained nationals", khmer: "ពលរដ្ឋដែលត្រូវបានឃុំខ្លួន" });
    // Filter by facility (server-side): the test's two persons are held there.
    await cn.getByLabel("Detention facility").fill(facility);
    await cn.getByRole("button", { name: "Apply filters" }).click();
    await cn.waitForURL(/facility=/);
    await cn.getByRole("link", { name: "Wang Lei" }).waitFor();
    assert.equal(await cn.getByRole("link", { name: "Tran Thi Mai" }).count(), 0, "China sees a Vietnamese national");
    // Filter by custody status (server-side).
    await cn.getByLabel("Custody status").selectOption("deported");
    await cn.getByRole("button", { name: "Apply filters" }).click();
    await cn.waitForURL(/custody_status=deported/);
    await cn.getByText("No nationals match.").waitFor();
    await cn.goBack();
    await cn.getByRole("link", { name: "Wang Lei" }).click();
    await checkScreen(cn, "embassy-national", { heading: "Wang Lei" });
    state.wangId = new URL(cn.url()).pathname.split("/").pop();
    await setLanguage(cn, "km");
    await cn.getByRole("heading", { level: 2, name: "ឯកសារដែលបានផ្តល់ជូនស្ថានទូតរបស់អ្នក" }).waitFor();
    await screenshot(cn, "embassy-national-km");
    await setLanguage(cn, "en");
    const row = cn.getByRole("row", { name: /Passport scan, Wang Lei/ });
    const [download] = await Promise.all([cn.waitForEvent("download"), row.getByRole("link", { name: /Download/ }).click()]);
    assert.equal(sha256(readFileSync(await download.path())), sha256(readFileSync(join(outDir, "passport-scan.pdf"))));
    assertNoPageErrors(cn);
    await cn.context().close();

    const vn = await newPage(browser);
    await signIn(vn, server.base, "emb-vn-liaison", nationalsUrl());
    await vn.getByRole("link", { name: "Tran Thi Mai" }).waitFor();
    assert.equal(await vn.getByRole("link", { name: "Wang Lei" }).count(), 0, "Viet Nam sees a Chinese national");
    // Nor through the API: every national it lists is Vietnamese, and the
    // Chinese national's page is not found.
    const api = await apiOf(vn, server.base);
    const list = await api.get("/api/v1/consular/nationals?limit=200");
    assert.equal(list.status, 200);
    assert.ok(list.json.items.length > 0 && list.json.items.every((n) => n.nationality === "VN"));
    await vn.goto(server.base + `/consular/nationals/${state.wangId}`);
    await vn.getByText("Not found, or not shared with your agency").waitFor();
    await vn.context().close();
  }));

  test("immigration supervisor: refer to court, share with an embassy, revoke", guarded("supervisor", async () => {
    const sup = await newPage(browser);
    await signIn(sup, server.base, "gdi-supervisor", state.caseUrl);
    await sup.getByRole("heading", { level: 1, name: /Golden Lotus/ }).waitFor();
    const status = sup.getByRole("form", { name: "Change the status" });
    await status.getByLabel("New status").selectOption("investigation");
    await status.getByRole("button", { name: "Change status" }).click();
    await sup.getByText("Under investigation").first().waitFor();
    await status.getByLabel("New status").selectOption("before_court");
    await status.getByLabel("Court", { exact: true }).selectOption({ label: "Phnom Penh Municipal Court" });
    await status.getByLabel("Hearing date").fill("2026-12-15");
    await status.getByLabel("Legal basis").fill("Immigration Law, Art. 29");
    await status.getByRole("button", { name: "Change status" }).click();
    await sup.getByText("Phnom Penh Municipal Court").first().waitFor();
    // Both changes are in the status history, oldest first.
    const history = sup.getByRole("heading", { name: "Status history" }).locator("xpath=following-sibling::ol[1]");
    await history.getByRole("listitem").nth(1).waitFor();
    const entries = await history.getByRole("listitem").allInnerTexts();
    assert.match(entries[0], /Under investigation/);
    assert.match(entries[entries.length - 1], /Before the court/);

    // Before the share, the US embassy does not see the case.
    const us = await newPage(browser);
    const search = "/cases?q=Golden+Lotus";
    await signIn(us, server.base, "emb-us-liaison", search);
    await us.getByRole("heading", { level: 1, name: "Cases" }).waitFor();
    await us.getByText("No cases match.").waitFor();

    const share = sup.getByRole("form", { name: "Share with an agency" });
    await share.getByLabel("Agency").selectOption({ label: "Embassy of the United States of America" });
    await share.getByLabel("Level").selectOption("summary");
    await share.getByLabel("Highest classification").selectOption("restricted");
    await share.getByLabel("Purpose").fill("Consular assistance for a dual national");
    await share.getByRole("button", { name: "Share" }).click();
    await sup.getByRole("cell", { name: "Embassy of the United States of America", exact: true }).waitFor();
    await screenshot(sup, "case-shared");

    await us.reload();
    await us.getByRole("cell", { name: /Golden Lotus/ }).waitFor();
    await screenshot(us, "embassy-shared-cases");

    await sup.getByRole("button", { name: /Revoke/ }).click();
    // Revoking asks first, naming the agency and what it loses.
    await sup.getByRole("alertdialog").getByRole("button", { name: "Revoke the share" }).click();
    await sup.getByRole("cell", { name: "Revoked", exact: true }).waitFor();
    // The success message of the share no longer stands (defect 11).
    assert.equal(await sup.getByText("The case is now shared.").count(), 0);
    await us.reload();
    await us.getByRole("heading", { level: 1, name: "Cases" }).waitFor();
    await us.getByText("No cases match.").waitFor();
    assertNoPageErrors(sup);
    await us.context().close();
    await sup.context().close();
  }));

  test("court clerk and ministry coordinator see the case their grants give them", guarded("court", async () => {
    for (const [user, shot] of [
      ["court-clerk", "court-cases"],
      ["moi-coordinator", "ministry-cases"],
    ]) {
      const page = await newPage(browser);
      await signIn(page, server.base, user);
      await checkScreen(page, shot, { heading: "Cases", khmer: "សំណុំរឿង" });
      await page.getByRole("link", { name: /GDI|gdi|\d/ }).first().waitFor();
      await page.getByRole("cell", { name: /Golden Lotus/ }).waitFor();
      const ref = page.getByRole("row", { name: /Golden Lotus/ }).getByRole("link").first();
      await ref.click();
      await page.getByRole("heading", { level: 1, name: /Golden Lotus/ }).waitFor();
      // Neither may change it: no edit, status or share controls.
      assert.equal(await page.getByRole("link", { name: "Edit case" }).count(), 0);
      assert.equal(await page.getByRole("form", { name: "Change the status" }).count(), 0);
      assert.equal(await page.getByRole("form", { name: "Share with an agency" }).count(), 0);
      assertNoPageErrors(page);
      await page.context().close();
    }
  }));

  test("counter-trafficking: a flagged person appears among possible victims and is screened", guarded("trafficking", async () => {
    // The owning officer raises a suspicion on the person page.
    const off = await newPage(browser);
    await signIn(off, server.base, "gdi-officer", state.caseUrl);
    await off.getByRole("link", { name: "Tran Thi Mai" }).click();
    await off.getByRole("heading", { level: 1, name: "Tran Thi Mai" }).waitFor();
    const form = off.getByRole("form", { name: "Record screening" });
    await form.getByLabel("Trafficking screening").selectOption("suspected");
    await form.getByRole("button", { name: "Save screening" }).click();
    await off.getByText("The screening was saved.").waitFor();
    await off.context().close();

    const ct = await newPage(browser);
    await signIn(ct, server.base, "ncct-officer");
    await checkScreen(ct, "ct-victims", { heading: "Possible victims", khmer: "ជនរងគ្រោះដែលអាចមាន" });
    // Search by name among the demo data's possible victims.
    await ct.getByLabel("Name").fill("Tran Thi Mai");
    await ct.getByLabel("Nationality").fill("VN");
    await ct.getByRole("button", { name: "Apply filters" }).click();
    await ct.waitForURL(/q=Tran/);
    await ct.getByRole("link", { name: "Tran Thi Mai" }).click();
    await checkScreen(ct, "ct-screening", { heading: "Tran Thi Mai" });
    await setLanguage(ct, "km");
    await ct.getByRole("heading", { level: 2, name: "ការពិនិត្យការជួញដូរមនុស្ស" }).waitFor();
    await screenshot(ct, "ct-screening-km");
    await setLanguage(ct, "en");
    const screen = ct.getByRole("form", { name: "Record screening" });
    await screen.getByLabel("Trafficking screening").selectOption("identified");
    await screen.getByLabel("Screening notes").fill("Recruited online with a false job offer; passport held by the employer.");
    await screen.getByRole("button", { name: "Save screening" }).click();
    await ct.getByText("The screening was saved.").waitFor();
    await ct.getByText("Identified victim").first().waitFor();
    assertNoPageErrors(ct);
    await ct.context().close();

    // Victim protection: without her consent, her embassy no longer sees her.
    const vn = await newPage(browser);
    await signIn(vn, server.base, "emb-vn-liaison", nationalsUrl());
    await vn.getByRole("heading", { level: 1, name: "Detained nationals" }).waitFor();
    await vn.getByText("No nationals match.").waitFor();
    await vn.context().close();
  }));

  test("admin: audit trail, agencies and users; no case screens", guarded("admin", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "admin");
    const nav = page.getByRole("navigation", { name: "Main" });
    assert.equal(await nav.getByRole("link", { name: "Cases", exact: true }).count(), 0);

    await nav.getByRole("link", { name: "Audit trail" }).click();
    await checkScreen(page, "admin-audit", { heading: "Audit trail", khmer: "កំណត់ត្រាសវនកម្ម" });
    // A case's trail (the link a case id gives; people filter by reference, wave2.test.mjs).
    await page.goto(`${server.base}/admin/audit?case=${state.caseId}`);
    await page.getByRole("cell", { name: "case.read" }).first().waitFor();
    // The case's trail holds its creation and the document download; the
    // action filter finds each however many reads came after.
    for (const action of ["case.create", "document.content.read"]) {
      await page.getByLabel("Action", { exact: true }).selectOption(action);
      await page.getByRole("button", { name: "Apply filters" }).click();
      await page.waitForURL(new RegExp("action=" + action.replaceAll(".", "\\.")));
      await page.getByRole("cell", { name: action }).first().waitFor();
    }

    await nav.getByRole("link", { name: "Agencies" }).click();
    await checkScreen(page, "admin-agencies", { heading: "Agencies", khmer: "ស្ថាប័ន" });
    await page.getByRole("cell", { name: "Embassy of Australia", exact: true }).waitFor();
    // Register an agency, then disable it (a PATCH with If-Match).
    const form = page.getByRole("form", { name: "Register an agency" });
    await form.getByLabel("Code").fill("emb-th");
    await form.getByLabel("Name", { exact: true }).fill("Royal Thai Embassy");
    await form.getByLabel("Kind").selectOption("embassy");
    await form.getByLabel("Country represented").fill("TH");
    await form.getByRole("combobox", { name: "Country represented" }).press("Enter"); // choose Thailand; the list closes
    await form.getByRole("button", { name: "Register" }).click();
    await page.getByText("Royal Thai Embassy is registered.").waitFor();
    const thai = page.getByRole("row", { name: /Royal Thai Embassy/ });
    await thai.getByRole("button", { name: /Disable/ }).click();
    await thai.getByRole("button", { name: /Enable/ }).waitFor();
    assert.match(await thai.textContent(), /No/);

    await nav.getByRole("link", { name: "Users" }).click();
    await checkScreen(page, "admin-users", { heading: "Users", khmer: "អ្នកប្រើប្រាស់" });
    await page.getByRole("cell", { name: /Sokha Chan/ }).waitFor();
    assertNoPageErrors(page);
    await page.context().close();
  }));
});
