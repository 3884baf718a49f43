// `npm run contract -- --base-url URL --key KEY [--seller-key K] [--service-key K] [--direct products=URL,…]
// [--max-request-bytes N] [--nats-url nats://… --namespace NS]`: runs the generated contract suites against a running
// deployment and prints the coverage.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    "base-url": { type: "string" },
    key: { type: "string" },
    "seller-key": { type: "string" },
    "service-key": { type: "string" },
    direct: { type: "string" },
    "max-request-bytes": { type: "string" },
    // Where the deployment's JetStream is readable: then events are checked as published, and refusals as silent.
    "nats-url": { type: "string" },
    namespace: { type: "string" },
  },
});
if (!values["base-url"] || !values.key) {
  console.error("usage: npm run contract -- --base-url https://gateway.example --key sk_… (an operator API key)");
  process.exit(2);
}
const reports = mkdtempSync(join(tmpdir(), "shop-contract-report-"));
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  SHOP_CONTRACT_BASE_URL: values["base-url"],
  SHOP_CONTRACT_KEY: values.key,
  SHOP_CONTRACT_SELLER_KEY: values["seller-key"] ?? "",
  SHOP_CONTRACT_SERVICE_KEY: values["service-key"] ?? "",
  SHOP_CONTRACT_DIRECT: values.direct ?? "",
  SHOP_CONTRACT_MAX_REQUEST_BYTES: values["max-request-bytes"] ?? "",
  SHOP_CONTRACT_NATS_URL: values["nats-url"] ?? "",
  SHOP_CONTRACT_NAMESPACE: values.namespace ?? "",
  SHOP_CONTRACT_REPORT_DIR: reports,
};
const vitest = join(process.cwd(), "node_modules", ".bin", "vitest");
// With the deployment's streams watched, one suite at a time: a suite checks that its refused requests published
// nothing, which another suite's calls to the same deployment would otherwise blur.
const sequential = values["nats-url"] ? ["--no-file-parallelism"] : [];
const run = spawnSync(vitest, ["run", ...sequential, "test/contract/generated"], { stdio: "inherit", env });

let missing = 0;
const totals: Record<string, { covered: number; expected: number }> = {};
for (const name of readdirSync(reports)) {
  const report = JSON.parse(readFileSync(join(reports, name), "utf8")) as {
    rows: Array<{ kind: string; covered: number; expected: number }>;
    missing: string[];
  };
  missing += report.missing.length;
  for (const row of report.rows) {
    const total = (totals[row.kind] ??= { covered: 0, expected: 0 });
    total.covered += row.covered;
    total.expected += row.expected;
  }
}
rmSync(reports, { recursive: true, force: true });
console.log("contract coverage (all services):");
for (const [kind, total] of Object.entries(totals))
  console.log(`  ${kind.padEnd(10)} ${total.covered}/${total.expected}`);
process.exit(run.status === 0 && missing === 0 && Object.keys(totals).length > 0 ? 0 : 1);
