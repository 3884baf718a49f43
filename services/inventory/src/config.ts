import { type EnvReader, int, loadConfig, platformConfigSpec, url } from "@shop/platform";

/** A key prefix for this deployment's Redis keys; braces are refused because they would change the hash tag. */
function redisPrefix(fallback: string): EnvReader<string> {
  return (raw, name) => {
    const value = raw ?? fallback;
    if (/[{}\s]/.test(value)) throw new Error(`${name}=${value} must not contain braces or spaces`);
    return value;
  };
}

/** The inventory's own variables, next to the platform's. */
export const inventoryConfigSpec = {
  ...platformConfigSpec,
  SHOP_REDIS_URL: url("redis://127.0.0.1:6379", ["redis:", "rediss:"]),
  /**
   * Prefix of every inventory key (e.g. "staging:"), so several deployments or test runs share one Redis. Default:
   * SHOP_NAMESPACE and a colon (see `loadInventoryConfig`), so a namespace alone keeps deployments apart.
   */
  SHOP_REDIS_PREFIX: redisPrefix(""),
  /** How long a hold lasts when Reserve names no TTL. Default 15 minutes. */
  SHOP_INVENTORY_DEFAULT_TTL_SECONDS: int(900, 1, 86_400),
  /** How often the expiry sweeper looks for holds past their TTL. Default 1 s. */
  SHOP_INVENTORY_SWEEP_INTERVAL_MS: int(1_000, 10, 60_000),
  /**
   * How long Reserve, Commit, Release and Adjust wait for their events to be stored in the JetStream ledger before
   * answering Unavailable (the change stays in the outbox and is relayed later; a retry answers once it is). Default 5 s.
   */
  SHOP_INVENTORY_LEDGER_TIMEOUT_MS: int(5_000, 50, 60_000),
  /**
   * How long the outbox relay lease lasts unrenewed: when the replica holding it dies, the others relay nothing (and
   * changes wait) until it lapses, so keep it below SHOP_INVENTORY_LEDGER_TIMEOUT_MS less the relay's 1 s poll; the
   * holder renews it at least once a second. Default 3 s.
   */
  SHOP_INVENTORY_OUTBOX_LEASE_MS: int(3_000, 1_500, 60_000),
  /** How long finished reservations are kept so repeated Commit/Release/Reserve get the same answer. Default 7 days. */
  SHOP_INVENTORY_RETENTION_HOURS: int(168, 1, 24 * 365),
};

export type InventoryConfig = { [K in keyof typeof inventoryConfigSpec]: ReturnType<(typeof inventoryConfigSpec)[K]> };

/**
 * Reads and validates the inventory's environment; a bad value stops the start with every problem listed. Without
 * SHOP_REDIS_PREFIX the keys are prefixed by the namespace, as its NATS names are.
 */
export function loadInventoryConfig(env: Record<string, string | undefined> = process.env): InventoryConfig {
  const namespace = env.SHOP_NAMESPACE ?? "";
  return loadConfig({ ...inventoryConfigSpec, SHOP_REDIS_PREFIX: redisPrefix(namespace ? `${namespace}:` : "") }, env);
}
