#!/usr/bin/env node
// `prepack` / `postpack`: the package.json that `npm pack` and `npm publish` ship describes the bundle, not the
// workspace. In the workspace @shop/cli depends on @shop/sdk and @shop/contracts (not on the registry) and on tsx to
// run its sources; the bundle holds all of that, so the packed manifest has no dependencies and exports the bundle.
// `prepack` sets the workspace manifest aside and writes the packed one; `postpack` puts the workspace one back.
import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const manifestPath = fileURLToPath(new URL("../package.json", import.meta.url));
const setAsidePath = fileURLToPath(new URL("../.package.workspace.json", import.meta.url));

/** The manifest of the packed package, made from the workspace one. */
function packedManifest(workspace) {
  const { dependencies, devDependencies, scripts, exports, ...packed } = workspace;
  return { ...packed, exports: { ".": "./dist/shop.js" } };
}

async function restore() {
  if (existsSync(setAsidePath)) await rename(setAsidePath, manifestPath);
}

const step = process.argv[2];
if (step === "prepack") {
  // A pack that died before `postpack` left the packed manifest in place: start from the workspace one again.
  await restore();
  const workspace = await readFile(manifestPath, "utf8");
  await writeFile(setAsidePath, workspace);
  const temporary = `${manifestPath}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(packedManifest(JSON.parse(workspace)), null, 2)}\n`);
  await rename(temporary, manifestPath);
} else if (step === "postpack") {
  await restore();
} else {
  console.error("usage: pack-manifest.mjs prepack|postpack");
  process.exit(1);
}
