import type { Client } from "@connectrpc/connect";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { createLogger, createPlatform, type Platform } from "@shop/platform";
import { clientFor, createTestKeys, type ProtocolName, type TestEnv, type TestKeys } from "@shop/platform/testing";
import { Redis } from "ioredis";
import { createInventory, type Inventory, loadInventoryConfig } from "../../src/index.js";
import { createManualClock, type ManualClock } from "../../src/internal.js";

/** One inventory served in-process for a test file, on the file's isolated namespace and Redis prefix. */
export interface InventoryHarness {
  url: string;
  keys: TestKeys;
  clock: ManualClock;
  platform: Platform;
  inventory: Inventory;
  /** Operator client over Connect (binary). */
  operator: Client<typeof InventoryService>;
  clientAs(role: keyof TestKeys, protocol?: ProtocolName): Client<typeof InventoryService>;
  /** Stops this instance and starts a fresh one on the same Redis keys and NATS namespace (a process restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra or overriding environment, e.g. SHOP_REDIS_URL of a private redis-server; undefined unsets a variable. */
  env?: Record<string, string | undefined>;
  clock?: ManualClock;
}

async function startOnce(testEnv: TestEnv, options: HarnessOptions, clock: ManualClock) {
  const config = loadInventoryConfig({
    ...testEnv.serviceEnv,
    SHOP_PORT: "0",
    // Tests sweep on demand after moving the clock; the background sweeper only runs where a test asks for it.
    SHOP_INVENTORY_SWEEP_INTERVAL_MS: "60000",
    ...options.env,
  });
  const platform = await createPlatform("inventory", config, {
    logger: createLogger("inventory", process.env.SHOP_LOG_LEVEL ?? "silent"),
  });
  const inventory = await createInventory(platform, config, { clock });
  const running = await inventory.start();
  return { platform, inventory, running, keys: createTestKeys(platform.apiKeys) };
}

export async function startInventoryHarness(testEnv: TestEnv, options: HarnessOptions = {}): Promise<InventoryHarness> {
  const clock = options.clock ?? createManualClock();
  let current = await startOnce(testEnv, options, clock);
  const harness: InventoryHarness = {
    url: current.running.url,
    keys: current.keys,
    clock,
    platform: current.platform,
    inventory: current.inventory,
    operator: clientFor(InventoryService, current.running.url, { credential: current.keys.operator }),
    clientAs: (role, protocol) =>
      clientFor(InventoryService, harness.url, {
        credential: harness.keys[role],
        protocol: protocol ?? "connect-binary",
      }),
    async restart() {
      await current.inventory.stop();
      current = await startOnce(testEnv, options, clock);
      Object.assign(harness, {
        url: current.running.url,
        keys: current.keys,
        platform: current.platform,
        inventory: current.inventory,
        operator: clientFor(InventoryService, current.running.url, { credential: current.keys.operator }),
      });
    },
    stop: () => current.inventory.stop(),
  };
  return harness;
}

/** A plain Redis client for looking at the raw counters from outside the service. */
export function observer(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: 1 });
}
