// Process entry of the orders service: config → platform → orders → serve → graceful shutdown on signals.
import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadOrdersConfig } from "./config.js";
import { createOrders } from "./orders.js";

const config = loadConfigOrExit("orders", loadOrdersConfig);
const platform = await createPlatform("orders", config);
const orders = await createOrders(platform, config);
exitOnSignals(await orders.start(), platform.logger);
