#!/usr/bin/env node
// `shop` runs dist/shop.js, the CLI bundled into plain JavaScript (scripts/build.mjs), so a command starts without
// compiling TypeScript. An installed package has only the bundle; a checkout also has the sources, and there
// scripts/load-checkout-cli.mjs first makes sure the bundle is not older than them.
import { existsSync } from "node:fs";

// `shop products list | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});
const inCheckout = existsSync(new URL("../src/main.ts", import.meta.url));
const { runCli } = inCheckout
  ? await import("../scripts/load-checkout-cli.mjs").then(({ loadCheckoutCli }) => loadCheckoutCli())
  : await import("../dist/shop.js");
process.exitCode = await runCli(process.argv);
