import { bool, int, loadConfig, platformConfigSpec, url } from "@shop/platform";

export const productsConfigSpec = {
  ...platformConfigSpec,
  /** 8081 is the products port of the local stack (`npm start`). */
  SHOP_PORT: int(8081, 0, 65535),
  SHOP_DATABASE_URL: url("postgres://postgres@127.0.0.1:5432/test", ["postgres:", "postgresql:"]),
  SHOP_DATABASE_POOL_SIZE: int(10, 1, 500),
  /** Apply pending migration files at start (safe with several replicas); off when `shop migrate` runs them. */
  SHOP_MIGRATE_ON_START: bool(true),
  /** How long published outbox rows are kept (for inspection and replays) before pruning. Default 7 days. */
  SHOP_OUTBOX_RETENTION_MS: int(7 * 24 * 3_600_000, 0),
  /** Longest the relay sleeps when no NOTIFY arrives (the polling fallback). */
  SHOP_OUTBOX_POLL_MS: int(1_000, 10, 60_000),
  SHOP_OUTBOX_BATCH_SIZE: int(256, 1, 10_000),
  /** Publishes the relay keeps awaiting their ack (events of one aggregate always go one at a time). */
  SHOP_OUTBOX_MAX_IN_FLIGHT: int(64, 1, 4_096),
};

export type ProductsConfig = ReturnType<typeof loadProductsConfig>;

/** The products service's configuration from the environment; a bad value stops the start naming the variable. */
export function loadProductsConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(productsConfigSpec, env);
}
