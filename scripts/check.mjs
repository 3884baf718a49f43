#!/usr/bin/env node
// `npm run check`: everything that must hold before tests are worth running. Stops at the first failing step.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

function git(...args) {
  return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
}

/** The commit to check breaking changes against: the previous one, when there is one with protos. */
function previousCommit() {
  try {
    const ref = git("rev-parse", "--verify", "--quiet", "HEAD~1");
    git("cat-file", "-e", `${ref}:buf.yaml`);
    return ref;
  } catch {
    return undefined;
  }
}

/**
 * buf cannot build the old commit straight from git because buf/validate comes from a git-ignored folder, so the old
 * tree is exported, given the same dependency folder, and built to an image.
 */
function buildPreviousImage(ref) {
  const dir = mkdtempSync(join(tmpdir(), "shop-breaking-"));
  execFileSync("sh", ["-c", `git archive ${ref} buf.yaml proto | tar -x -C "${dir}"`]);
  cpSync(".buf-deps", join(dir, ".buf-deps"), { recursive: true });
  const image = join(dir, "image.binpb");
  execFileSync(bin("buf"), ["build", "-o", image], { cwd: dir, stdio: "inherit" });
  return { image, dir };
}

step("fetch buf/validate/validate.proto", process.execPath, ["scripts/fetch-protovalidate.mjs"]);
step("buf lint", bin("buf"), ["lint"]);

const previous = previousCommit();
if (previous) {
  const { image, dir } = buildPreviousImage(previous);
  // Both sides as single images: buf compares a two-module workspace only against a two-module input otherwise.
  const current = join(dir, "current.binpb");
  execFileSync(bin("buf"), ["build", "-o", current], { stdio: "inherit" });
  step(`buf breaking against ${previous.slice(0, 8)}`, bin("buf"), ["breaking", current, "--against", image]);
  rmSync(dir, { recursive: true, force: true });
} else {
  console.log("- buf breaking skipped: no previous commit with protos");
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
