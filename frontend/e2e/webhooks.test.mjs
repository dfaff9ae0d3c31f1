// Webhooks to embassy systems, as the platform admin meets them:
//   the admin points the US embassy's webhook at the receiver that
//     `casebridge dev` runs, and sees a URL outside the policy refused;
//   a first webhook for another embassy shows its signing secret once;
//   an officer records a US national's detention, and the delivery shows
//     in the log as delivered (the dev receiver checked its signature).
// The screen is checked with axe-core and in Khmer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  apiOf,
  assertNoPageErrors,
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

describe("embassy webhooks", () => {
  test("admin: sets the US embassy's webhook to the dev receiver", guarded("admin-set", async () => {
    const m = /webhook receiver at (http:\/\/127\.0\.0\.1:\d+\/webhooks)/.exec(server.output());
    assert.ok(m, "casebridge dev printed its webhook receiver");
    state.receiver = m[1];
    const page = await newPage(browser);
    await signIn(page, server.base, "admin");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Webhooks" }).click();
    await checkScreen(page, "webhooks", { heading: "Embassy webhooks", khmer: "Webhook របស់ស្ថានទូត" });
    await page.getByLabel("Embassy").selectOption({ label: "Embassy of the United States of America" });
    await page.getByRole("heading", { name: "Change the webhook" }).waitFor();
    const url = page.getByLabel("Endpoint URL");
    // Not to an internal address: refused, naming the field.
    await url.fill("https://metadata.internal/latest");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText(/is not an address webhooks may go to/).waitFor();
    await url.fill(state.receiver);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").filter({ hasText: "The webhook is saved." }).waitFor();
    // Saved without a new secret: none is shown.
    assert.equal(await page.getByTestId("webhook-secret").count(), 0);
    await screenshot(page, "webhooks-us");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("admin: a first webhook shows its secret once", guarded("admin-secret", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "admin", "/admin/webhooks");
    await page.getByRole("heading", { level: 1, name: "Embassy webhooks" }).waitFor();
    await page.getByLabel("Embassy").selectOption({ label: "Embassy of Australia" });
    await page.getByRole("heading", { name: "Set the webhook" }).waitFor();
    await page.getByLabel("Endpoint URL").fill(`${state.receiver}/au`);
    await page.getByRole("button", { name: "Save" }).click();
    const secret = page.getByTestId("webhook-secret");
    await secret.waitFor();
    assert.match(await secret.innerText(), /^whsec_/);
    await checkScreen(page, "webhooks-secret-once", { heading: "Embassy webhooks", khmer: "Webhook របស់ស្ថានទូត" });
    await page.reload();
    await page.getByLabel("Embassy").selectOption({ label: "Embassy of Australia" });
    await page.getByRole("heading", { name: "Change the webhook" }).waitFor();
    assert.equal(await page.getByTestId("webhook-secret").count(), 0, "the secret is shown only once");
    assertNoPageErrors(page);
    await page.context().close();
  }));

  test("a US national detained: the delivery shows in the log", guarded("delivery", async () => {
    const officer = await newPage(browser);
    await signIn(officer, server.base, "gdi-officer");
    const api = await apiOf(officer, server.base);
    const cases = await api.get("/api/v1/cases?limit=50");
    const own = cases.json.items.find((c) => c.owner_agency.code === "gdi" && c.access.level === "full");
    const r = await api.post("/api/v1/persons", {
      family_name: "Miller",
      given_names: `Hooked ${process.pid}`,
      nationality: "US",
      custody_status: "detained",
      case_id: own.id,
      role: "detainee",
    });
    assert.equal(r.status, 201, r.text);
    await officer.context().close();

    const page = await newPage(browser);
    await signIn(page, server.base, "admin", "/admin/webhooks");
    await page.getByRole("heading", { level: 1, name: "Embassy webhooks" }).waitFor();
    await page.getByLabel("Embassy").selectOption({ label: "Embassy of the United States of America" });
    const log = page.getByRole("table", { name: "Delivery log" });
    await log.getByRole("row").filter({ hasText: "notification.created" }).filter({ hasText: "Delivered" }).first()
      .waitFor({ timeout: 60_000 });
    await checkScreen(page, "webhooks-delivered", { heading: "Embassy webhooks", khmer: "Webhook របស់ស្ថានទូត" });
    // The dev receiver printed it, signature checked.
    assert.match(server.output(), /webhook receiver: notification\.created \S+ signature ok/);
    assert.match(server.output(), new RegExp(`Hooked ${process.pid}`));
    assert.doesNotMatch(server.output(), /webhook receiver: REFUSED/);
    assertNoPageErrors(page);
    await page.context().close();
  }));
});
