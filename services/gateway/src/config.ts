import { loadConfig, platformConfigSpec, str, url } from "@shop/platform";

export const gatewayConfigSpec = {
  ...platformConfigSpec,
  SHOP_PORT: platformConfigSpec.SHOP_PORT,
  /** Where each domain's service listens. identity is served by products. */
  SHOP_UPSTREAM_PRODUCTS: url("http://127.0.0.1:8081", ["http:"]),
  SHOP_UPSTREAM_SEARCH: url("http://127.0.0.1:8082", ["http:"]),
  SHOP_UPSTREAM_INVENTORY: url("http://127.0.0.1:8083", ["http:"]),
  SHOP_UPSTREAM_ORDERS: url("http://127.0.0.1:8084", ["http:"]),
  /** Browser origins allowed to call, comma separated; `*` allows any (credentials travel in headers, not cookies). */
  SHOP_CORS_ORIGINS: str("*"),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(gatewayConfigSpec, env);
}
