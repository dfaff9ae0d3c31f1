// The access rules as a person meets them in the app (spec/ACCESS.md):
//   a summary share: the Chinese embassy holds a summary share of the Tuol
//     Kork case; it sees the case's Vietnamese nationals in the summary
//     projection (no trafficking flag, no screening, a note saying why), and
//     none of its own nationals, whom it sees only in its consular list;
//   shelters: a consenting victim held at a shelter is shown to their
//     embassy "in the care of the authorities", never at the shelter by name,
//     in English and in Khmer;
//   facilities are a managed list: the officer's person form offers the
//     registered facilities with their kind.
// Each screen is checked with axe-core and in Khmer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
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

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("access rules in the app", () => {
  test("a summary share shows persons in the summary projection, never the embassy's own nationals", guarded("summary", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "emb-cn-liaison");
    const api = await apiOf(page, server.base);
    const cases = await api.get("/api/v1/cases");
    assert.equal(cases.status, 200);
    const tuolKork = cases.json.items.find((c) => c.access.level === "summary");
    assert.ok(tuolKork, "emb-cn holds a summary share of a case");
    const persons = await api.get(`/api/v1/cases/${tuolKork.id}/persons?limit=200`);
    assert.equal(persons.status, 200);
    assert.ok(persons.json.items.length > 0, "the shared case lists persons");
    for (const it of persons.json.items) {
      assert.notEqual(it.person.nationality, "CN", "the embassy's own national is listed with the shared case");
      assert.equal("trafficking_flag" in it.person, false, "a summary grant shows the trafficking flag");
    }

    await page.goto(`${server.base}/cases/${tuolKork.id}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    const first = persons.json.items[0].person;
    const name = `${first.family_name} ${first.given_names}`.trim();
    await page.getByRole("link", { name }).waitFor();
    assert.ok((await page.getByText("Summary only").count()) > 0, "the summary rows say so");
    await screenshot(page, "access-summary-case");
    await checkA11y(page, "summary case");

    await page.getByRole("link", { name }).click();
    await checkScreen(page, "access-summary-person", { heading: name, khmer: name });
    await page.getByRole("note").filter({ hasText: "summary only" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: /screening/i }).count(), 0, "a summary view shows the screening");
    await setLanguage(page, "km");
    await page.getByRole("note").filter({ hasText: "សេចក្តីសង្ខេប" }).waitFor();
    await setLanguage(page, "en");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("a national at a shelter is in the care of the authorities", guarded("shelter", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "emb-cn-liaison");
    const api = await apiOf(page, server.base);
    const all = [];
    for (let cursor = "", i = 0; i < 20; i++) {
      const r = await api.get(`/api/v1/consular/nationals?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
      assert.equal(r.status, 200);
      all.push(...r.json.items);
      if (!r.json.next_cursor) break;
      cursor = r.json.next_cursor;
    }
    assert.equal(all.filter((n) => /shelter/i.test(n.facility)).length, 0, "a shelter is named to the own state");
    const inCare = all.find((n) => n.facility === "in the care of the authorities");
    assert.ok(inCare, "the demo has a consenting national at a shelter");
    const name = `${inCare.family_name} ${inCare.given_names}`.trim();

    await page.goto(`${server.base}/consular/nationals/${inCare.id}`);
    await checkScreen(page, "access-national-in-care", { heading: name, khmer: name });
    await page.getByText("In the care of the authorities").waitFor();
    assert.equal(await page.getByText(/shelter/i).count(), 0, "the page names a shelter");
    await setLanguage(page, "km");
    await page.getByText("ស្ថិតក្នុងការថែរក្សារបស់អាជ្ញាធរ").waitFor();
    await screenshot(page, "access-national-in-care-km2");
    await setLanguage(page, "en");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("the person form picks a facility from the managed list", guarded("facilities", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer");
    const api = await apiOf(page, server.base);
    const list = await api.get("/api/v1/facilities");
    assert.equal(list.status, 200);
    const shelter = list.json.items.find((f) => f.kind === "shelter");
    assert.ok(shelter, "the demo registers a shelter");
    const cases = await api.get("/api/v1/cases?limit=5");
    const own = cases.json.items.find((c) => c.owner_agency.code === "gdi");
    await page.goto(`${server.base}/cases/${own.id}/persons/new`);
    await page.getByRole("heading", { level: 1, name: "Add a person" }).waitFor();
    const picker = page.getByLabel("Detention facility");
    await picker.locator("option", { hasText: `${shelter.name} (shelter)` }).waitFor({ state: "attached" });
    assert.equal(await picker.locator("option").count(), list.json.items.length + 1, "every facility and 'none'");
    await screenshot(page, "access-facility-picker");
    await checkA11y(page, "facility picker");
    assertNoPageErrors(page);
    await page.context().close();
  }));
});
