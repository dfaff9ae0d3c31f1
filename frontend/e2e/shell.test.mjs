// Everyone: sign in through the development provider's real login page,
// see who am I and the agency, switch to Khmer and back, sign out.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  assertNoPageErrors,
  checkA11y,
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

describe("everyone", () => {
  test("sign in, who am I, language, sign out", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer");
    const who = page.getByTestId("whoami");
    await assert.doesNotReject(who.getByText("Sokha Chan").waitFor());
    await assert.doesNotReject(who.getByText("General Department of Immigration").waitFor());
    assert.equal(await page.locator("html").getAttribute("lang"), "en");

    await setLanguage(page, "km");
    await page.getByRole("button", { name: "ចាកចេញ" }).waitFor();
    const nav = page.getByRole("navigation", { name: "ម៉ឺនុយមេ" });
    await nav.getByRole("link", { name: "សំណុំរឿង", exact: true }).waitFor();
    await screenshot(page, "shell-km");
    await checkA11y(page, "shell (Khmer)");
    // The choice is kept across a reload.
    await page.reload();
    await page.getByRole("button", { name: "ចាកចេញ" }).waitFor();
    await setLanguage(page, "en");
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((u) => !u.pathname.startsWith("/cases"), { timeout: 30_000 });
    // The session is over: the API no longer knows the browser.
    const res = await page.context().request.get(`${server.base}/api/v1/me`);
    assert.equal(res.status(), 401, `after sign-out /api/v1/me answered ${res.status()}`);
    assertNoPageErrors(page);
    await page.context().close();
  });

  test("keyboard: skip link, navigation and focus", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer", "/cases");
    await page.getByRole("heading", { level: 1, name: "Cases" }).waitFor();
    await page.keyboard.press("Tab");
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
    assert.equal(await focused(), "Skip to content");
    // The focus ring is visible (an outline, not "none").
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none");
    // Tab on to "New case" in the navigation and follow it with Enter.
    for (let i = 0; i < 10 && (await focused()) !== "New case"; i++) await page.keyboard.press("Tab");
    assert.equal(await focused(), "New case");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Open a case file" }).waitFor();
    // Focus moved to the new page's content, so the next Tab lands in the form.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "title");
    await page.context().close();
  });

  test("a deep link survives sign-in", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-viewer", "/cases?status=open");
    const url = new URL(page.url());
    assert.equal(url.pathname, "/cases");
    assert.equal(url.searchParams.get("status"), "open");
    await page.context().close();
  });
});
