export { exitCode } from "./cli-errors.js";
export { createProgram, runCli } from "./main.js";
