// Inventory process entry: configuration from the environment, wiring, serving, graceful shutdown on SIGTERM.
import { exitOnSignals, isConfigError } from "@shop/platform";
import { startInventory } from "./inventory.js";

try {
  const { running, platform } = await startInventory();
  exitOnSignals(running, platform.logger);
} catch (err) {
  process.stderr.write(
    `inventory failed to start: ${isConfigError(err) ? err.message : String((err as Error).stack ?? err)}\n`,
  );
  process.exit(1);
}
