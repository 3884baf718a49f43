import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** What `shop login` stores: where the platform is and which key to use. */
export interface CliConfig {
  endpoint: string;
  apiKey: string;
}

export const defaultEndpoint = "http://127.0.0.1:8080";

/** `$SHOP_CONFIG`, else `$XDG_CONFIG_HOME/shop/config.json`, else `~/.config/shop/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHOP_CONFIG) return env.SHOP_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "shop", "config.json");
}

async function readStored(path: string): Promise<Partial<CliConfig>> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Partial<CliConfig>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new Error(`cannot read ${path}: ${(err as Error).message}; fix or delete it, then run \`shop login\``);
  }
}

/** The effective config: SHOP_ENDPOINT and SHOP_API_KEY override the stored file. */
export async function loadCliConfig(env: NodeJS.ProcessEnv = process.env): Promise<CliConfig> {
  const stored = await readStored(configPath(env));
  return {
    endpoint: env.SHOP_ENDPOINT || stored.endpoint || defaultEndpoint,
    apiKey: env.SHOP_API_KEY || stored.apiKey || "",
  };
}

/** Writes the config readable by the owner only (0600): it holds a secret. */
export async function saveCliConfig(config: Partial<CliConfig>, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const path = configPath(env);
  const merged = { ...(await readStored(path)), ...config };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(merged, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}
