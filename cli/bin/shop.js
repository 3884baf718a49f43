#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `shop` works straight from a checkout without a build step.
import { register } from "tsx/esm/api";

register();
// `shop products list | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});
const { runCli } = await import("../src/main.ts");
process.exitCode = await runCli(process.argv);
