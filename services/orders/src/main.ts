// Process entry of the orders service: config → platform → orders → serve → graceful shutdown on signals.
import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadOrdersConfig } from "./config.js";
import { crashAfterStepFromEnv } from "./fault-injection.js";
import { createOrders } from "./orders.js";

const config = loadConfigOrExit("orders", loadOrdersConfig);
const platform = await createPlatform("orders", config);
// crashAfterStepFromEnv: test-only, a no-op unless SHOP_ORDERS_FAULT_CRASH_AFTER is set (crash tests).
const orders = await createOrders(platform, config, crashAfterStepFromEnv());
exitOnSignals(await orders.start(), platform.logger);
