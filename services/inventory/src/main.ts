// Process entry of the inventory service: config → platform → inventory → serve → graceful shutdown on signals.
import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadInventoryConfig } from "./config.js";
import { createInventory } from "./inventory.js";

const config = loadConfigOrExit("inventory", loadInventoryConfig);
const platform = await createPlatform("inventory", config);
const inventory = await createInventory(platform, config);
exitOnSignals(await inventory.start(), platform.logger);
