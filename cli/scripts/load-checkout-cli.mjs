// In a checkout `shop` must run what the sources say, not a bundle left over from an earlier build: tests spawn
// bin/shop.js right after editing cli/, sdk/ or gen/. A bundle older than any file it was built from is rebuilt
// first (under a second, once); when it cannot be built (a syntax error, a read-only checkout) the sources run
// through tsx, as they did before the CLI was bundled, so the error shows where it is.
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildCli, bundlePath, inputsPath } from "./build.mjs";

/** True when the bundle was built after every file it was built from last changed. */
function bundleIsFresh() {
  try {
    const { builtAt, inputs } = JSON.parse(readFileSync(inputsPath, "utf8"));
    statSync(bundlePath);
    const dir = dirname(inputsPath);
    return inputs.every((input) => statSync(resolve(dir, input)).mtimeMs <= builtAt);
  } catch {
    return false;
  }
}

/** The CLI's entry module (`runCli`, `createProgram`): the bundle, rebuilt when stale, else the sources. */
export async function loadCheckoutCli() {
  if (!bundleIsFresh()) {
    try {
      await buildCli({ logLevel: "silent" });
    } catch {
      const { register } = await import("tsx/esm/api");
      register();
      return import("../src/index.ts");
    }
  }
  return import(pathToFileURL(bundlePath).href);
}
