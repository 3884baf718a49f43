// Process entry of the Stripe emulator: config → create → start → stop on SIGTERM/SIGINT.
import { createLogger, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadStripeEmulatorConfig } from "./config.js";
import { createStripeEmulator } from "./stripe-emulator.js";

const config = loadConfigOrExit("stripe-emulator", loadStripeEmulatorConfig);
const logger = createLogger("stripe-emulator", config.SHOP_LOG_LEVEL);
const emulator = createStripeEmulator(config, { logger });
await emulator.start();
exitOnSignals({ shutdown: () => emulator.stop() }, logger);
