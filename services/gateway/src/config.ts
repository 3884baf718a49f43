import { int, loadConfig, platformConfigSpec, str, url, urlList } from "@shop/platform";

export const gatewayConfigSpec = {
  ...platformConfigSpec,
  SHOP_PORT: platformConfigSpec.SHOP_PORT,
  /**
   * Where each domain's service listens, one URL per replica separated by commas: calls go to them in turn, and to
   * the next one when a replica refuses the connection. identity is served by products.
   */
  SHOP_UPSTREAM_PRODUCTS: urlList("http://127.0.0.1:8081", ["http:"]),
  SHOP_UPSTREAM_SEARCH: urlList("http://127.0.0.1:8082", ["http:"]),
  SHOP_UPSTREAM_INVENTORY: urlList("http://127.0.0.1:8083", ["http:"]),
  SHOP_UPSTREAM_ORDERS: urlList("http://127.0.0.1:8084", ["http:"]),
  /** How long a replica that refused a connection gets no calls while others answer, in ms. Default 5 s. */
  SHOP_UPSTREAM_KEEP_OUT_MS: int(5_000, 0, 600_000),
  /** Browser origins allowed to call, comma separated; `*` allows any (credentials travel in headers, not cookies). */
  SHOP_CORS_ORIGINS: str("*"),
  /** Where the rate-limit counters live, shared by every gateway replica. */
  SHOP_REDIS_URL: url("redis://127.0.0.1:6379", ["redis:", "rediss:"]),
  /** Prefix of the gateway's Redis keys; by default the namespace's (`<namespace>:`). */
  SHOP_REDIS_PREFIX: str(""),
  /** Calls one API key or token may make per window; 0 turns the limit off. */
  SHOP_RATE_LIMIT_PER_CREDENTIAL: int(100_000, 0),
  /** Calls one client address may make per window without credentials (stricter); 0 turns the limit off. */
  SHOP_RATE_LIMIT_ANONYMOUS: int(20_000, 0),
  /** Length of the rate-limit window in seconds. */
  SHOP_RATE_LIMIT_WINDOW_S: int(10, 1, 3_600),
  /** Proxies in front of the gateway whose `x-forwarded-for` entries name the client; 0 trusts none. */
  SHOP_TRUSTED_PROXY_HOPS: int(0, 0, 10),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(gatewayConfigSpec, env);
}
