// Bulk import and the oversight dashboard (issue 13):
//   immigration officer: from the Tuol Kork raid case, import the follow-up
//     raid spreadsheet; the report shows the one bad row (line, column,
//     reason), highlighted; the officer fixes it, checks the file again and
//     imports every row at once (committed by a background job, whose
//     progress the wizard shows); the result links back to the case, where
//     the persons are (Chinese, Vietnamese and Khmer names byte for byte);
//   ministry coordinator: the oversight dashboard shows its charts, a data
//     table beside each, and CSV downloads.
// Each screen is screenshotted, checked with axe-core, and checked in Khmer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
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
  signIn,
  startServer,
} from "./harness.mjs";

let server;
let browser;

before(async () => {
  // Imports of more than 3 rows are committed by a background job here, so
  // the wizard's follow-the-job path is what the officer goes through.
  process.env.CASEBRIDGE_IMPORTS_JOB_ABOVE_ROWS = "3";
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const facility = "Immigration Detention Centre, Pochentong";
const tag = String(process.pid).slice(-5);

/** The demo raid spreadsheet: the follow-up raid's detainees, one row wrong (a country name). */
function raidSpreadsheet(fixed) {
  const rows = [
    ["family_name", "given_names", "family_name_native", "given_names_native", "sex", "date_of_birth", "nationality",
      "passport_number", "custody_status", "facility", "detained_at", "role"],
    ["Zhang", "Wei", "张", "伟", "male", "1991-04-12", "CN", `EK${tag}01`, "detained", facility, "2026-11-20T05:30:00+07:00", "detainee"],
    ["Li", "Na", "李", "娜", "female", "1996-09-02", "CN", `EK${tag}02`, "detained", facility, "2026-11-20T05:30:00+07:00", "detainee"],
    ["Chen", "Jun", "陈", "军", "male", "1988-01-30", fixed ? "CN" : "China", `EK${tag}03`, "detained", facility,
      "2026-11-20T05:30:00+07:00", "detainee"],
    ["Nguyễn", "Thị Hoa", "", "", "female", "1999-12-05", "VN", `C${tag}004`, "detained", facility, "2026-11-20T05:30:00+07:00", "witness"],
    ["Trần", "Văn Nam", "", "", "male", "1994-07-19", "VN", `C${tag}005`, "detained", facility, "2026-11-20T05:30:00+07:00", "detainee"],
    ["Sok", "Dara", "សុខ", "ដារា", "male", "1990-02-14", "TH", `AA${tag}06`, "detained", facility, "2026-11-20T05:30:00+07:00", "other"],
  ];
  const csv = rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(",")).join("\n") + "\n";
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, fixed ? "follow-up-raid-fixed.csv" : "follow-up-raid.csv");
  writeFileSync(path, "\uFEFF" + csv);
  return path;
}

describe("bulk import and oversight", () => {
  test("officer imports the raid spreadsheet, fixing the bad row after the report", guarded("import", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "gdi-officer");
    const api = await apiOf(page, server.base);
    const list = await api.get("/api/v1/cases?q=GDI-2026-000002");
    const kase = list.json.items.find((c) => c.reference === "GDI-2026-000002");
    assert.ok(kase, "the Tuol Kork raid case");
    await page.goto(`${server.base}/cases/${kase.id}`);
    await page.getByRole("link", { name: "Import persons from a spreadsheet" }).click();
    await checkScreen(page, "import-choose", { heading: "Import persons from a spreadsheet", khmer: "នាំចូលបុគ្គលពីតារាងទិន្នន័យ" });

    // The file with the bad row: the report names it, nothing is imported.
    await page.getByLabel("Spreadsheet file").setInputFiles(raidSpreadsheet(false));
    await page.getByRole("button", { name: "Check the file" }).click();
    const bad = page.getByRole("table", { name: "Bad rows" });
    await bad.waitFor({ timeout: 30_000 });
    const cells = await bad.locator("tbody tr.bad-row td").allTextContents();
    assert.equal(cells[0], "4");
    assert.equal(cells[1], "nationality");
    assert.match(cells[2], /ISO 3166-1 alpha-2/);
    assert.equal(await bad.locator("tbody tr").count(), 1, "exactly one bad row");
    await page.getByText("6 rows checked: 1 bad, 0 already on file.").waitFor();
    assert.equal(await page.getByRole("button", { name: /^Import \d+ rows$/ }).count(), 0, "no import while a row is bad");
    await screenshot(page, "import-report");
    await checkA11y(page, "import report");

    // Fixed: every row good; confirm; the result links back to the case.
    await page.getByLabel("Spreadsheet file").setInputFiles(raidSpreadsheet(true));
    await page.getByRole("button", { name: "Check the file" }).click();
    await page.getByText("6 rows checked: 0 bad, 0 already on file.").waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Import 6 rows" }).click();
    // A background job writes the rows; the wizard shows its progress.
    await page.getByText(/^Saving in the background: \d+ of 12 rows and links written/).waitFor({ timeout: 10_000 });
    const done = page.getByRole("region", { name: "Import complete" });
    await done.waitFor({ timeout: 60_000 });
    await done.getByText("6 persons recorded, 0 linked from the file, 0 were already in the case.").waitFor();
    await checkScreen(page, "import-result", { heading: "Import persons from a spreadsheet", khmer: "នាំចូលបុគ្គលពីតារាងទិន្នន័យ" });
    await done.getByRole("link", { name: "Back to case GDI-2026-000002" }).click();
    await page.waitForURL(`${server.base}/cases/${kase.id}`);

    // The names came through byte for byte.
    const persons = await api.get(`/api/v1/cases/${kase.id}/persons?limit=200`);
    const mine = [];
    let cursor = null;
    let pageOf = persons.json;
    for (;;) {
      mine.push(...pageOf.items.filter((l) => (l.person.passport_number ?? "").includes(tag)));
      cursor = pageOf.next_cursor;
      if (!cursor) break;
      pageOf = (await api.get(`/api/v1/cases/${kase.id}/persons?limit=200&cursor=${encodeURIComponent(cursor)}`)).json;
    }
    assert.equal(mine.length, 6);
    const byPassport = Object.fromEntries(mine.map((l) => [l.person.passport_number, l.person]));
    assert.equal(byPassport[`EK${tag}01`].family_name_native, "张");
    assert.equal(byPassport[`C${tag}004`].family_name, "Nguyễn");
    assert.equal(byPassport[`AA${tag}06`].given_names_native, "ដារា");
    assertNoPageErrors(page);
    await page.close();
  }));

  test("coordinator opens the oversight dashboard: charts, tables, CSV", guarded("dashboard", async () => {
    const page = await newPage(browser);
    await signIn(page, server.base, "moi-coordinator");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Oversight figures" }).click();
    await page.getByRole("table", { name: "Persons by nationality and custody status" }).waitFor({ timeout: 30_000 });
    await page.getByRole("table", { name: "Per month" }).waitFor({ timeout: 30_000 });
    await checkScreen(page, "dashboard", { heading: "Oversight figures", khmer: "តួលេខត្រួតពិនិត្យ" });
    // One chart per figure, each an image with a text alternative.
    const charts = page.getByRole("img");
    assert.ok((await charts.count()) >= 4, "four charts");
    for (const name of ["Persons by nationality and custody status", "Consular notification delay per embassy",
      "Cases by status and age", "Per month"]) {
      await page.getByRole("table", { name }).waitFor();
    }
    // The seeds' situation: Chinese detainees, November deportations by air and over land.
    const nat = page.getByRole("table", { name: "Persons by nationality and custody status" });
    assert.ok((await nat.locator("tbody tr").count()) > 1);
    const months = page.getByRole("table", { name: "Per month" });
    const nov = months.locator("tbody tr", { has: page.getByRole("rowheader", { name: "2026-11" }) });
    const cells = await nov.locator("td").allTextContents();
    assert.ok(Number(cells[1]) > 0 && Number(cells[2]) > 0, `November deportations by air and land: ${cells}`);
    // CSV downloads of the same figures.
    const api = await apiOf(page, server.base);
    const csv = await api.get("/api/v1/stats/overview?format=csv");
    assert.equal(csv.status, 200);
    assert.match(csv.headers["content-type"], /^text\/csv/);
    assert.match(csv.text, /^figure,nationality,custody_status/);
    assert.ok((await page.getByRole("link", { name: "Download as CSV" }).count()) >= 4);
    assertNoPageErrors(page);
    await page.close();
  }));
});
