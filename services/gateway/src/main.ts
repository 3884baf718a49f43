import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadGatewayConfig } from "./config.js";
import { startGateway } from "./gateway.js";

const config = loadConfigOrExit("gateway", loadGatewayConfig);
const platform = await createPlatform("gateway", config);
const gateway = await startGateway({
  port: config.SHOP_PORT || 8080,
  host: config.SHOP_HOST,
  logger: platform.logger,
  upstreams: {
    products: config.SHOP_UPSTREAM_PRODUCTS,
    identity: config.SHOP_UPSTREAM_PRODUCTS,
    search: config.SHOP_UPSTREAM_SEARCH,
    inventory: config.SHOP_UPSTREAM_INVENTORY,
    orders: config.SHOP_UPSTREAM_ORDERS,
  },
  corsOrigins: config.SHOP_CORS_ORIGINS.split(",").map((origin) => origin.trim()),
  apiKeys: platform.apiKeys,
  tokenSecret: config.SHOP_AUTH_SECRET,
  shutdownTimeoutMs: config.SHOP_SHUTDOWN_TIMEOUT_MS,
  onShutdown: [platform.close],
});
exitOnSignals(gateway, platform.logger);
