// Fails when src/api/schema.d.ts (committed, generated) does not match
// ../api/openapi.yaml: run `npm run gen:api` and commit the result.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "casebridge-api-"));
const fresh = join(dir, "schema.d.ts");
try {
  execFileSync("npx", ["--no-install", "openapi-typescript", "../api/openapi.yaml", "--output", fresh], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const committed = readFileSync("src/api/schema.d.ts", "utf8");
  if (readFileSync(fresh, "utf8") !== committed) {
    console.error("src/api/schema.d.ts is stale: run `npm run gen:api` in frontend/ and commit it.");
    process.exit(1);
  }
  console.log("api types: src/api/schema.d.ts matches api/openapi.yaml");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
