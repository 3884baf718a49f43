import { runCli } from "@shop/cli";

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
