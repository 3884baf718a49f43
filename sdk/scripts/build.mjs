#!/usr/bin/env node
// Builds what `npm pack` ships: ESM JavaScript with .d.ts files in dist/. The SDK's own sources and the parts of
// @shop/event-wire it uses are compiled together (event-wire is a private workspace package, so it travels inside
// the SDK as dist/event-wire/ instead of as a dependency); @shop/contracts ships as its own package.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const sdk = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(sdk, "dist");
const tsc = join(sdk, "..", "node_modules", "typescript", "bin", "tsc");

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Lays out tsc's output as the package ships it, in `out`, with imports of event-wire pointing at its copy. */
function assemble(compiled, out) {
  // tsc mirrors the repository layout under the common root: compiled/sdk/src and compiled/event-wire/src.
  cpSync(join(compiled, "sdk", "src"), out, { recursive: true });
  cpSync(join(compiled, "event-wire", "src"), join(out, "event-wire"), { recursive: true });
  for (const file of files(out)) {
    const text = readFileSync(file, "utf8");
    if (!text.includes('"@shop/event-wire"')) continue;
    let target = relative(dirname(file), join(out, "event-wire", "index.js"));
    if (!target.startsWith(".")) target = `./${target}`;
    writeFileSync(file, text.replaceAll('"@shop/event-wire"', `"${target}"`));
  }
  const leftover = [...files(out)].filter((file) =>
    /@shop\/(event-wire|platform)|\.ts"/.test(readFileSync(file, "utf8")),
  );
  if (leftover.length > 0) throw new Error(`workspace-only imports left in ${leftover.join(", ")}`);
}

const compiled = mkdtempSync(join(tmpdir(), "shop-sdk-build-"));
// Assembled beside dist/ and swapped in whole, so a concurrent `npm pack` never sees half a dist/.
const next = join(sdk, `.dist-${process.pid}`);
try {
  execFileSync(process.execPath, [tsc, "-p", join(sdk, "tsconfig.build.json"), "--outDir", compiled], {
    stdio: ["ignore", process.stderr, process.stderr],
  });
  assemble(compiled, next);
  rmSync(dist, { recursive: true, force: true });
  renameSync(next, dist);
} finally {
  rmSync(compiled, { recursive: true, force: true });
  rmSync(next, { recursive: true, force: true });
}
// stderr, so `npm pack --json` (which runs this as prepack) keeps a clean stdout.
console.error(`build: ${relative(process.cwd(), dist) || "."} ready`);
