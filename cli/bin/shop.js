#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `shop` works straight from a checkout without a build step.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/main.ts");
process.exitCode = await runCli(process.argv);
