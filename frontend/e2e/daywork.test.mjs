// The second wave (issue 14): each numbered defect of the first wave as a
// step that failed on the first wave's app and passes now.
//   1 deportation recorded from the person page (date, route, entry ban);
//     the non-punishment refusal explained in words, in both languages;
//   2 "remove from case" asks first, naming what happens; an existing
//     person is found (passport number) and linked instead of recorded twice;
//   3 nationality is a searchable ISO 3166 picker: "China" is CN, never CH;
//   4 counter-trafficking records its decision with a reason, shown in the
//     screening history; the referral refusal before it is the rule and who
//     lifts it, not "Something went wrong";
//   8 problems carry stable codes the app translates (Khmer field messages).
// Every screen is checked with axe (no serious/critical) and in Khmer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  apiOf,
  assertNoPageErrors,
  checkA11y,
  guarded,
  launchBrowser,
  newPage,
  screenshot,
  setLanguage,
  signIn,
  startServer,
} from "./harness.mjs";

let server;
let browser;
const s = {};

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // The officer's raid: a case, a facility of its own, two persons. Set-up
  // goes through the API; every assertion goes through the screens.
  const page = await newPage(browser);
  await signIn(page, server.base, "gdi-officer");
  const api = await apiOf(page, server.base);
  s.facility = `E2E daywork facility ${process.pid}`;
  const fac = await api.post("/api/v1/facilities", { name: s.facility, kind: "detention_centre" });
  assert.equal(fac.status, 201, fac.text);
  const mk = async (title) => {
    const r = await api.post("/api/v1/cases", { title, kind: "illegal_entry" });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  s.case1 = await mk(`Daywork raid ${process.pid}, Chbar Ampov`);
  s.case2 = await mk(`Daywork follow-up ${process.pid}, Chbar Ampov`);
  const person = async (body) => {
    const r = await api.post("/api/v1/persons", {
      sex: "male",
      custody_status: "detained",
      facility: s.facility,
      detained_at: new Date().toISOString(),
      case_id: s.case1.id,
      role: "detainee",
      ...body,
    });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  s.zhang = await person({ family_name: "Zhang", given_names: "Wei", nationality: "CN", passport_number: "G77001234" });
  s.nguyen = await person({ family_name: "Nguyen", given_names: "Van An", nationality: "VN" });
  // The officer raises a suspicion of trafficking on Zhang Wei.
  const p = await api.get(`/api/v1/persons/${s.zhang.id}`);
  const flag = await api.post(`/api/v1/persons/${s.zhang.id}/screening`, { trafficking_flag: "suspected" }, { "If-Match": p.headers.etag });
  assert.equal(flag.status, 200, flag.text);
  await page.context().close();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("daily work, second wave", () => {
  test("1: the officer records a deportation; the non-punishment refusal is explained", guarded("d1-deport", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer", `/persons/${s.nguyen.id}`);
    await page.getByRole("heading", { level: 1, name: "Nguyen Van An" }).waitFor();
    await page.getByRole("button", { name: "Record deportation" }).click();
    const form = page.getByRole("form", { name: "Record the deportation" });
    await form.getByLabel("Date of deportation").fill("2026-11-20");
    await form.getByLabel("Airport", { exact: true }).check();
    await form.getByLabel("Which airport").fill("Phnom Penh International Airport");
    await form.getByLabel("Entry ban until").fill("2029-11-20");
    await screenshot(page, "d1-deport-form");
    await checkA11y(page, "deportation form");
    await form.getByRole("button", { name: "Record deportation" }).click();
    const custody = page.getByRole("region", { name: "Custody status" });
    await custody.getByText("Airport · Phnom Penh International Airport").waitFor();
    await custody.getByText("Deported", { exact: true }).first().waitFor();
    await custody.getByText("20 Nov 2029").waitFor();
    // Land route, and the API holds what the screen said.
    const api = await apiOf(page, server.base);
    const got = (await api.get(`/api/v1/persons/${s.nguyen.id}`)).json;
    assert.equal(got.custody_status, "deported");
    assert.equal(got.deported_via, "airport: Phnom Penh International Airport");
    assert.equal(got.entry_ban_until, "2029-11-20");
    assert.match(got.deported_at, /^2026-11-20T/);

    // A possible victim: the rule is said before and after trying.
    await page.goto(`${server.base}/persons/${s.zhang.id}`);
    await page.getByRole("heading", { level: 1, name: "Zhang Wei" }).waitFor();
    await page.getByTestId("non-punishment").waitFor();
    await page.getByRole("button", { name: "Record deportation" }).click();
    const f2 = page.getByRole("form", { name: "Record the deportation" });
    await f2.getByLabel("Date of deportation").fill("2026-11-21");
    await f2.getByLabel("Land border checkpoint").check();
    await f2.getByLabel("Which checkpoint").fill("Bavet");
    await f2.getByRole("button", { name: "Record deportation" }).click();
    const alert = page.getByRole("alert");
    await alert.getByRole("heading", { name: "Refused by a rule" }).waitFor();
    await alert.getByText(/cannot be recorded as deported until counter-trafficking decides/).waitFor();
    await alert.getByText(/Who can lift it: a counter-trafficking officer/).waitFor();
    assert.equal(await alert.getAttribute("data-code"), "person.deportation_pending_screening");
    await screenshot(page, "d1-non-punishment");
    await checkA11y(page, "non-punishment refusal");
    await setLanguage(page, "km");
    await page.getByRole("alert").getByText(/គោលការណ៍មិនដាក់ទណ្ឌកម្ម/).waitFor();
    await page.getByRole("alert").getByText(/អ្នកដែលអាចដកវាបាន/).waitFor();
    await screenshot(page, "d1-non-punishment-km");
    await checkA11y(page, "non-punishment refusal (Khmer)");
    await setLanguage(page, "en");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("2: removing asks first; an existing person is found by passport and linked", guarded("d2-link", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer", `/cases/${s.case2.id}`);
    await page.getByRole("heading", { level: 1, name: /Daywork follow-up/ }).waitFor();
    // Search before recording: the passport number finds Zhang Wei of the raid.
    const link = page.getByRole("region", { name: "Link a person already recorded" });
    await link.getByLabel("Passport number").fill("g7700 1234");
    await link.getByRole("button", { name: "Search" }).click();
    const results = link.getByTestId("link-results");
    await results.getByRole("link", { name: "Zhang Wei" }).waitFor();
    await link.getByText(/1 recorded persons match/).waitFor();
    await screenshot(page, "d2-link-search");
    await checkA11y(page, "link existing person");
    await link.getByLabel("Role").selectOption("witness");
    await results.getByRole("button", { name: /^Link to this case\s*: Zhang Wei$/ }).click();
    const persons = page.getByRole("table", { name: "Persons" });
    await persons.getByRole("link", { name: "Zhang Wei" }).waitFor();
    // Remove asks first, says what happens, and Cancel keeps the person.
    await persons.getByRole("button", { name: /^Remove from case\s*: Zhang Wei$/ }).click();
    const box = page.getByRole("alertdialog", { name: "Remove Zhang Wei from this case?" });
    await box.getByText(/stays recorded/).waitFor();
    await checkA11y(page, "remove confirmation");
    await setLanguage(page, "km");
    await page.getByRole("alertdialog", { name: /ដក Zhang Wei ចេញពីសំណុំរឿងនេះ/ }).waitFor();
    await screenshot(page, "d2-confirm-km");
    await setLanguage(page, "en");
    await box.getByRole("button", { name: "Cancel" }).click();
    await persons.getByRole("link", { name: "Zhang Wei" }).waitFor();
    await persons.getByRole("button", { name: /^Remove from case\s*: Zhang Wei$/ }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Remove from case" }).click();
    await page.getByText("No persons are linked to this case yet.").waitFor();
    assert.equal(await persons.getByRole("link", { name: "Zhang Wei" }).count(), 0);
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("3: nationality is a searchable ISO 3166 picker: China is CN", guarded("d3-country", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer", `/cases/${s.case2.id}/persons/new`);
    await page.getByRole("heading", { level: 1, name: "Add a person" }).waitFor();
    await page.getByLabel("Family name").fill("Li");
    await page.getByLabel("Given names").fill("Qiang");
    const nat = page.getByRole("combobox", { name: "Nationality" });
    await nat.fill("China");
    const list = page.getByRole("listbox", { name: "Nationality" });
    await list.getByRole("option", { name: "China (CN)" }).waitFor();
    assert.equal(await list.getByRole("option", { name: /Switzerland/ }).count(), 0, "China must not offer Switzerland");
    await checkA11y(page, "country picker open");
    await nat.press("Enter");
    assert.equal(await nat.inputValue(), "China");
    await page.getByLabel("Custody status").selectOption("detained");
    await page.getByLabel("Detention facility").selectOption(s.facility);
    await page.getByRole("button", { name: "Save person" }).click();
    await page.waitForURL((u) => u.pathname === `/cases/${s.case2.id}`);
    const api = await apiOf(page, server.base);
    const found = (await api.get(`/api/v1/persons?q=Li%20Qiang&limit=200`)).json.items.filter((x) => x.facility === s.facility);
    assert.equal(found.length, 1);
    assert.equal(found[0].nationality, "CN");
    // In Khmer the picker searches Khmer names.
    await page.goto(`${server.base}/cases/${s.case2.id}/persons/new`);
    await setLanguage(page, "km");
    const natKm = page.getByRole("combobox", { name: "សញ្ជាតិ" });
    await natKm.fill("ចិន");
    await page.getByRole("option", { name: "ចិន (CN)" }).waitFor();
    await screenshot(page, "d3-country-km");
    await checkA11y(page, "country picker (Khmer)");
    await setLanguage(page, "en");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("4: referral refused as a rule; counter-trafficking decides with a reason; referral goes", guarded("d4-decision", async () => {
    const sup = await newPage(browser);
    await signIn(sup, server.base, "gdi-supervisor", `/cases/${s.case1.id}`);
    await sup.getByRole("heading", { level: 1, name: /Daywork raid/ }).waitFor();
    const status = sup.getByRole("form", { name: "Change the status" });
    await status.getByLabel("New status").selectOption("investigation");
    await status.getByRole("button", { name: "Change status" }).click();
    await sup.getByText("Under investigation").first().waitFor();
    const refer = async () => {
      await status.getByLabel("New status").selectOption("before_court");
      await status.getByLabel("Court", { exact: true }).selectOption({ label: "Phnom Penh Municipal Court" });
      await status.getByLabel("Hearing date").fill("2026-12-15");
      await status.getByLabel("Legal basis").fill("Immigration Law, Art. 29");
      await status.getByRole("button", { name: "Change status" }).click();
    };
    await refer();
    const alert = sup.getByRole("alert");
    await alert.getByRole("heading", { name: "Refused by a rule" }).waitFor();
    await alert.getByText(/cannot be referred to court until counter-trafficking decides/).waitFor();
    await alert.getByText(/Who can lift it: a counter-trafficking officer/).waitFor();
    assert.equal(await alert.getByText("Something went wrong").count(), 0);
    await screenshot(sup, "d4-referral-refused");
    await checkA11y(sup, "referral refused");
    await setLanguage(sup, "km");
    await sup.getByRole("alert").getByText(/មិនអាចបញ្ជូនទៅតុលាការបានទេ/).waitFor();
    await screenshot(sup, "d4-referral-refused-km");
    await setLanguage(sup, "en");

    const ct = await newPage(browser);
    await signIn(ct, server.base, "ncct-officer", `/persons/${s.zhang.id}`);
    await ct.getByRole("heading", { level: 1, name: "Zhang Wei" }).waitFor();
    const form = ct.getByRole("form", { name: "Record screening" });
    await form.getByLabel("Proceedings may go on (referral, deportation)").check();
    // The decision needs its reason.
    await form.getByRole("button", { name: "Save screening" }).click();
    await form.getByText("is required").waitFor();
    await form.getByLabel("Reason for the decision").fill("Interviewed 21 Nov: came on his own account, no indicators of trafficking.");
    await form.getByRole("button", { name: "Save screening" }).click();
    await ct.getByText("The screening was saved.").waitFor();
    await ct.getByTestId("ct-decision").getByText("Proceedings may go on (referral, deportation)").waitFor();
    const hist = ct.getByTestId("screening-history");
    await hist.getByText(/no indicators of trafficking/).waitFor();
    await hist.getByText("Proceedings may go on (referral, deportation)").waitFor();
    await screenshot(ct, "d4-decision");
    await checkA11y(ct, "screening decision");
    await setLanguage(ct, "km");
    await ct.getByRole("heading", { name: "ប្រវត្តិនៃការត្រួតពិនិត្យ" }).waitFor();
    await checkA11y(ct, "screening decision (Khmer)");
    await setLanguage(ct, "en");
    assertNoPageErrors(ct);
    await ct.context().close();

    await sup.reload();
    await sup.getByRole("heading", { level: 1, name: /Daywork raid/ }).waitFor();
    await refer();
    await sup.getByText("Phnom Penh Municipal Court").first().waitFor();
    await sup.context().close();
  }));

  test("6: passport status, native names, work permit, address, asylum; new version and withdrawal", guarded("d6-fields", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer", `/persons/${s.zhang.id}/edit`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await page.getByLabel("Surname (native script)").fill("张");
    await page.getByLabel("Forenames (native script)").fill("伟");
    await page.getByLabel("Passport status").selectOption("invalid");
    await page.getByLabel("Work permit", { exact: true }).fill("WP-2026-0042");
    await page.getByLabel("Work permit status").selectOption("expired");
    await page.getByLabel("Address in Cambodia").fill("Borey Peng Huoth, Chbar Ampov");
    await page.getByLabel("The person has claimed asylum or protection").check();
    await page.getByRole("button", { name: "Save" }).first().click();
    await page.waitForURL((u) => u.pathname === `/persons/${s.zhang.id}`);
    const id = page.getByRole("region", { name: "Identity" });
    await id.getByTestId("passport-status").getByText("Invalid or forged").waitFor();
    await id.getByText("张 伟").waitFor();
    await id.getByText(/WP-2026-0042 · Expired/).waitFor();
    await id.getByText("Borey Peng Huoth, Chbar Ampov").waitFor();
    await id.getByTestId("asylum").getByText(/Claimed/).waitFor();
    await checkA11y(page, "person identity");
    await setLanguage(page, "km");
    await page.getByRole("region", { name: "អត្តសញ្ញាណ" }).getByText("មិនត្រឹមត្រូវ ឬក្លែងក្លាយ").waitFor();
    await screenshot(page, "d6-identity-km");
    await checkA11y(page, "person identity (Khmer)");
    await setLanguage(page, "en");

    // A document: a new version, then a withdrawal with its reason.
    const api = await apiOf(page, server.base);
    const req = page.context().request;
    const pdf = (tag) => Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${tag}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
    const up = await req.post(`${server.base}/api/v1/cases/${s.case1.id}/documents`, {
      headers: { "X-CSRF-Token": api.me.csrf_token, Accept: "application/json" },
      multipart: {
        metadata: { name: "metadata.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify({ title: "Statement of Zhang Wei", kind: "statement", classification: "restricted" })) },
        file: { name: "statement.pdf", mimeType: "application/pdf", buffer: pdf("v1") },
      },
    });
    assert.equal(up.status(), 201, await up.text());
    await page.goto(`${server.base}/cases/${s.case1.id}`);
    const row = page.getByRole("row", { name: /Statement of Zhang Wei/ });
    await row.getByRole("button", { name: /^New version/ }).click();
    await row.getByLabel("File").setInputFiles({ name: "statement-v2.pdf", mimeType: "application/pdf", buffer: pdf("v2") });
    await row.getByRole("button", { name: "Upload new version" }).click();
    await row.getByRole("cell", { name: "2", exact: true }).waitFor();
    await page.context().close();

    const sup = await newPage(browser);
    await signIn(sup, server.base, "gdi-supervisor", `/cases/${s.case1.id}`);
    const row2 = sup.getByRole("row", { name: /Statement of Zhang Wei/ });
    await row2.getByRole("button", { name: /^Withdraw/ }).click();
    const box = sup.getByRole("alertdialog", { name: "Withdraw Statement of Zhang Wei?" });
    await box.getByText(/cannot be undone/).waitFor();
    await checkA11y(sup, "withdraw confirmation");
    await box.getByLabel("Reason for withdrawing").fill("Recorded without an interpreter; retaken.");
    await box.getByRole("button", { name: "Withdraw document" }).click();
    await row2.getByText("Withdrawn").waitFor();
    assertNoPageErrors(sup);
    await sup.context().close();
  }));

  test("8: problems carry stable codes; the app shows them in Khmer", guarded("d8-codes", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer", "/cases/new");
    const api = await apiOf(page, server.base);
    const bad = await api.post("/api/v1/cases", { title: "", kind: "illegal_entry" });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.code, "problem.validation");
    assert.ok(bad.json.errors.every((e) => typeof e.code === "string" && e.code.startsWith("validation.")), bad.text);
    const p = await api.get(`/api/v1/persons/${s.zhang.id}`);
    assert.equal(p.status, 200);
    await page.getByRole("heading", { level: 1, name: "Open a case file" }).waitFor();
    await setLanguage(page, "km");
    await page.getByRole("button", { name: "បើកសំណុំរឿង" }).click();
    await page.getByText("ត្រូវតែបំពេញ").first().waitFor();
    await screenshot(page, "d8-validation-km");
    await checkA11y(page, "validation (Khmer)");
    await setLanguage(page, "en");
    assertNoPageErrors(page);
    await page.context().close();
  }));
});
