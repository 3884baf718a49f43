import { createShopClient, type ShopClient } from "@shop/sdk";
import { type CliConfig, loadCliConfig } from "./cli-config.js";

/** What every command needs: the effective config and clients built from it. Created lazily per command. */
export interface CliContext {
  config: CliConfig;
  client: ShopClient;
}

export async function createCliContext(overrides: Partial<CliConfig> = {}): Promise<CliContext> {
  const loaded = await loadCliConfig();
  const config = { ...loaded, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v)) } as CliConfig;
  return { config, client: createShopClient({ baseUrl: config.endpoint, credential: config.apiKey || undefined }) };
}
