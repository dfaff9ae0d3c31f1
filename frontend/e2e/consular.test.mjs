// Consular notifications and visits, as each user group meets them:
//   an embassy liaison sees a new notification in the inbox, acknowledges
//     it, and requests a consular visit to that national;
//   the immigration officer holding the national in a case answers the
//     request with a date and place, which the embassy then sees;
//   the ministry coordinator sees an overdue notification on the Overdue
//     screen.
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

const day = (n) => {
  const d = new Date(Date.now() + n * 86_400_000);
  return d.toISOString().slice(0, 10);
};

describe("consular notifications and visits", () => {
  test("an officer records a detention: the embassy is notified at once", guarded("detention", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer");
    const api = await apiOf(page, server.base);
    const cases = await api.get("/api/v1/cases?limit=50");
    const own = cases.json.items.find((c) => c.owner_agency.code === "gdi" && c.access.level === "full");
    const facilities = await api.get("/api/v1/facilities");
    const centre = facilities.json.items.find((f) => f.kind === "detention_centre");
    const r = await api.post("/api/v1/persons", {
      family_name: "Zhao",
      given_names: `Notified ${process.pid}`,
      nationality: "CN",
      custody_status: "detained",
      facility: centre.name,
      case_id: own.id,
      role: "detainee",
    });
    assert.equal(r.status, 201, r.text);
    state.person = r.json;
    state.name = `Zhao Notified ${process.pid}`;
    await page.context().close();
  }));

  test("embassy liaison: a new notification, acknowledged; a visit requested", guarded("liaison", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "emb-cn-liaison");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Notifications" }).click();
    await checkScreen(page, "consular-inbox", { heading: "Consular notifications", khmer: "ការជូនដំណឹងកុងស៊ុល" });
    await page.getByRole("link", { name: "New", exact: true }).click();
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: state.name }) });
    await row.waitFor();
    assert.match(await row.innerText(), /New/);
    await row.getByRole("button", { name: /Acknowledge/ }).click();
    await page.getByRole("link", { name: "Acknowledged", exact: true }).click();
    await page.getByRole("row").filter({ has: page.getByRole("link", { name: state.name }) }).waitFor();
    await screenshot(page, "consular-acknowledged");

    await page.getByRole("link", { name: state.name }).click();
    await page.getByRole("heading", { level: 1, name: state.name }).waitFor();
    await page.getByRole("heading", { name: "Request a consular visit" }).waitFor();
    await page.getByLabel("Preferred from").fill(day(2));
    await page.getByLabel("Preferred until").fill(day(9));
    await page.getByLabel("Note").fill("His family asked us to check on him.");
    await page.getByRole("button", { name: "Request the visit" }).click();
    await page.getByRole("status").filter({ hasText: "The visit is requested." }).waitFor();
    await page.getByText("Requested", { exact: true }).first().waitFor();
    await checkScreen(page, "consular-visit-requested", { heading: state.name, khmer: state.name });
    await checkA11y(page, "visit request");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("officer: answers the visit request; the embassy sees the answer", guarded("officer", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer", `/persons/${state.person.id}`);
    await page.getByRole("heading", { level: 1, name: state.name }).waitFor();
    await page.getByRole("heading", { name: "Consular visits" }).waitFor();
    const at = `${day(3)}T10:00`;
    await page.getByLabel("Date and time").fill(at);
    await page.getByLabel("Place").fill("Immigration Detention Centre, visitors' room");
    await page.getByRole("button", { name: "Send the answer" }).click();
    await page.getByText(/Visit on .* at Immigration Detention Centre, visitors' room/).waitFor();
    await screenshot(page, "consular-visit-answered");
    await checkA11y(page, "visit answered");
    assertNoPageErrors(page);
    await page.context().close();

    const emb = await newPage(browser);
    await signIn(emb, server.base, "emb-cn-liaison", `/consular/nationals/${state.person.id}`);
    await emb.getByText(/Visit on .* at Immigration Detention Centre, visitors' room/).waitFor();
    await emb.context().close();
  }));

  test("coordinator: an overdue notification on the Overdue screen", guarded("coordinator", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "moi-coordinator");
    const api = await apiOf(page, server.base);
    const overdue = await api.get("/api/v1/notifications?state=overdue&limit=200");
    assert.equal(overdue.status, 200);
    assert.ok(overdue.json.items.length > 0, "the demo has overdue notifications");
    const first = overdue.json.items[0];
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Overdue" }).click();
    await checkScreen(page, "consular-overdue", { heading: "Overdue", khmer: "ហួសកំណត់" });
    await page
      .getByRole("table", { name: "Notifications not acknowledged in time" })
      .getByRole("link", { name: `${first.person.family_name} ${first.person.given_names}`.trim() })
      .first()
      .waitFor();
    await nav.getByRole("link", { name: "Notifications" }).click();
    await checkScreen(page, "consular-all-notifications", { heading: "Consular notifications", khmer: "ការជូនដំណឹងកុងស៊ុល" });
    assertNoPageErrors(page);
    await page.context().close();
  }));
});
