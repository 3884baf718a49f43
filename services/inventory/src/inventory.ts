import {
  createShopService,
  type EventConsumer,
  type Logger,
  type OutboxRelay,
  type Platform,
  type ShopService,
  startOutboxRelay,
} from "@shop/platform";
import { Redis } from "ioredis";
import type { InventoryConfig } from "./config.js";
import { type Clock, systemClock } from "./domain/clock.js";
import { outboxEntryToEvent, startSellerStockConsumer } from "./events.js";
import { type ExpirySweeper, startExpirySweeper } from "./expiry-sweeper.js";
import { createLedgerRebuild, type LedgerRebuild } from "./ledger-rebuild.js";
import { inventoryRoutes } from "./service.js";
import { createLedgerProgress, type LedgerProgress } from "./store/ledger-progress.js";
import { createRedisOutboxSource } from "./store/redis-outbox-source.js";
import { createStockStore, type StockStore } from "./store/stock-store.js";

/** What tests vary about an inventory instance; a deployment passes none of them. */
export interface InventoryOverrides {
  /** Time for expiry; tests pass a manual clock. Default: the system clock. */
  clock?: Clock;
}

/** An inventory instance: the common service shape, plus the parts its tests drive or watch. */
export interface Inventory extends ShopService {
  store: StockStore;
  sweeper: ExpirySweeper;
  relay: OutboxRelay;
  consumer: EventConsumer;
  rebuild: LedgerRebuild;
  redis: Redis;
  /** When a change's events are in the ledger: Reserve, Commit, Release and Adjust answer only then. */
  ledger: LedgerProgress;
  /** Resolves once every event written so far is on JetStream. */
  outboxDrained(timeoutMs?: number): Promise<void>;
}

/**
 * Builds the inventory on a platform: Redis connection and scripts (keys under SHOP_REDIS_PREFIX), the outbox relay,
 * the expiry sweeper, the seller-stock consumer and the Connect routes. main.ts, the tests and the benchmarks all
 * start the inventory through this function; `stop` ends everything it started.
 */
export async function createInventory(
  platform: Platform,
  config: InventoryConfig,
  overrides: InventoryOverrides = {},
): Promise<Inventory> {
  const clock = overrides.clock ?? systemClock;
  const logger: Logger = platform.logger;
  const namespace = config.SHOP_NAMESPACE;
  const retentionMs = config.SHOP_INVENTORY_RETENTION_HOURS * 3_600_000;

  // Few retries per command: a caller waiting on a dead Redis gets Unavailable quickly; auto-pipelining batches the
  // scripts of concurrent requests into one write.
  const redis = new Redis(config.SHOP_REDIS_URL, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  redis.on("error", (err) => logger.debug({ err }, "redis connection error"));
  // A script that finds Redis emptied starts the rebuild; callers get Unavailable until it restored the state.
  let onStateLost = () => {};
  const store = createStockStore({
    redis,
    prefix: config.SHOP_REDIS_PREFIX,
    clock,
    retentionMs,
    onStateLost: () => onStateLost(),
  });
  const rebuild = createLedgerRebuild({
    js: platform.js,
    jsm: platform.jsm,
    namespace,
    store,
    clock,
    retentionMs,
    logger,
  });
  onStateLost = () => rebuild.start("Redis lost the inventory state");

  const ledger = createLedgerProgress({ redis, keys: store.keys });
  const source = createRedisOutboxSource({
    redis,
    keys: store.keys,
    logger,
    leaseMs: config.SHOP_INVENTORY_OUTBOX_LEASE_MS,
    toEvent: (entry) => outboxEntryToEvent(entry, namespace, config.SHOP_REDIS_PREFIX),
    onPublished: (lastId, epoch) => ledger.published(lastId, epoch),
  });
  // The only publisher of inventory events, also for changes whose callers wait (they wait for it to pass their entry):
  // pipelined across subjects, in order within each SKU or reservation subject, so the ledger keeps every SKU's order.
  // It wakes on every new outbox entry (XREAD BLOCK), so concurrent changes share its batches.
  const relay = startOutboxRelay({
    source,
    publisher: platform.events,
    logger,
    maxInFlight: 64,
    metrics: platform.metrics,
  });
  const sweeper = startExpirySweeper({ store, intervalMs: config.SHOP_INVENTORY_SWEEP_INTERVAL_MS, logger });
  // Before the consumer starts: levels it applies must land on restored state, not on an emptied Redis.
  await rebuild.ensureState().catch((err) => logger.error({ err }, "cannot check the inventory state in Redis"));
  const consumer = await startSellerStockConsumer({
    js: platform.js,
    jsm: platform.jsm,
    namespace,
    logger,
    store,
    metrics: platform.metrics,
    awaitRestore: (timeoutMs) => rebuild.idle(timeoutMs),
  });

  const service = createShopService(platform, {
    name: "inventory",
    routes: inventoryRoutes({
      store,
      rebuild,
      logger,
      defaultTtlMs: config.SHOP_INVENTORY_DEFAULT_TTL_SECONDS * 1_000,
      ledger,
      ledgerTimeoutMs: config.SHOP_INVENTORY_LEDGER_TIMEOUT_MS,
    }),
    isReady: () => redis.status === "ready" && !rebuild.running,
    onShutdown: [
      () => consumer.stop(),
      () => sweeper.stop(),
      // The relay finishes the batch in hand; what is left waits in the outbox for the next start.
      () => relay.stop(),
      () => ledger.close(),
      () => source.close(),
      async () => {
        await redis.quit().catch(() => redis.disconnect());
      },
    ],
  });

  return {
    ...service,
    store,
    sweeper,
    relay,
    consumer,
    rebuild,
    redis,
    ledger,
    outboxDrained: (timeoutMs) => relay.drained(timeoutMs),
  };
}
