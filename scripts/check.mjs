#!/usr/bin/env node
// `npm run check`: everything that must hold before tests are worth running. Stops at the first failing step.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { breakingBaselines, buildImageAt } from "./breaking-baselines.mjs";

const bin = (name) => join(process.cwd(), "node_modules", ".bin", name);
// buf runs protoc-gen-es from PATH, as it does under `npm run`.
process.env.PATH = `${join(process.cwd(), "node_modules", ".bin")}:${process.env.PATH}`;

function step(title, command, args, options = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`✗ ${title} failed (${seconds} s)`);
    process.exit(1);
  }
  console.log(`✓ ${title} (${seconds} s)`);
}

step("fetch buf/validate/validate.proto", process.execPath, ["scripts/fetch-protovalidate.mjs"]);
step("buf lint", bin("buf"), ["lint"]);

const baselines = breakingBaselines();
if (baselines.commits.length > 0) {
  // Both sides as single images: buf compares a two-module workspace only against a two-module input otherwise.
  const currentDir = mkdtempSync(join(tmpdir(), "shop-breaking-current-"));
  const current = join(currentDir, "current.binpb");
  execFileSync(bin("buf"), ["build", "-o", current], { stdio: "inherit" });
  for (const commit of baselines.commits) {
    const { image, dir } = buildImageAt(commit, bin("buf"));
    step(`buf breaking against ${commit.slice(0, 8)}`, bin("buf"), ["breaking", current, "--against", image]);
    rmSync(dir, { recursive: true, force: true });
  }
  rmSync(currentDir, { recursive: true, force: true });
  console.log(`✓ buf breaking against ${baselines.why}: ${baselines.commits.length} distinct proto tree(s)`);
} else {
  console.log(`- buf breaking skipped: no earlier commit with other protos in ${baselines.why}`);
}

const fresh = mkdtempSync(join(tmpdir(), "shop-gen-"));
step("buf generate (fresh copy)", bin("buf"), ["generate", "--output", fresh]);
step("gen/ is up to date", "diff", ["-r", "-q", join(fresh, "gen", "src"), join("gen", "src")]);
step("test/contract/generated is up to date", "diff", [
  "-r",
  "-q",
  join(fresh, "test", "contract", "generated"),
  join("test", "contract", "generated"),
]);
rmSync(fresh, { recursive: true, force: true });

step("typecheck", bin("tsc"), ["-p", "."]);
step("lint and format", bin("biome"), ["check", "."]);
step("dependency rules", bin("depcruise"), [
  "event-wire",
  "services",
  "sdk",
  "cli",
  "test",
  "bench",
  "examples",
  "--config",
  ".dependency-cruiser.cjs",
]);
console.log("✓ check passed");
