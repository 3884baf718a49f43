import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runCli } from "@shop/cli";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

export interface ShopRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `shop …` in-process against `endpoint` with `apiKey` (no config file) and returns its exit code and what it
 * printed, so CLI tests read like a transcript.
 */
export async function runShop(endpoint: string, apiKey: string, args: string[]): Promise<ShopRun> {
  process.env.SHOP_ENDPOINT = endpoint;
  process.env.SHOP_API_KEY = apiKey;
  process.env.SHOP_CONFIG = "/nonexistent/shop-cli-test.json";
  let out = "";
  let err = "";
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    err += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await runCli(["node", "shop", ...args]), out, err };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

/** What `shop …` run as a process printed, and its exit code. */
export interface ShopProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `shop …` (cli/bin/shop.js) as a separate process, the way a person runs it, with only `env` and on `node`
 * (default: the test's own); a failing command is returned with its exit code, not thrown.
 */
export async function runShopProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  node = process.execPath,
): Promise<ShopProcessRun> {
  try {
    const { stdout, stderr } = await run(node, [join(root, "cli", "bin", "shop.js"), ...args], { cwd: root, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
