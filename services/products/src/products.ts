import {
  createShopService,
  type EventPublisher,
  type OutboxRelay,
  type Platform,
  type ShopService,
  startOutboxRelay,
} from "@shop/platform";
import type { ProductsConfig } from "./config.js";
import { createProductsService } from "./service.js";
import { type CatalogDatabase, createDatabase } from "./store/database.js";
import { runMigrations } from "./store/migrator.js";
import { createOutboxSource } from "./store/outbox-source.js";
import type { CreatePath } from "./store/product-store.js";

/** What tests vary about a products instance; a deployment passes none of them. */
export interface ProductsOverrides {
  /** Where the relay publishes; tests count or stall what it sends. Default: the platform's publisher. */
  publisher?: EventPublisher;
  /** false runs no relay in this instance, for tests that decide when events flow. Default true. */
  relay?: boolean;
  /** First wait after a failed publish (it doubles up to 10 s). Default 500 ms. */
  relayRetryMs?: number;
  /** The time writes are stamped with. Default: the system clock. */
  clock?: () => Date;
  /** "transaction" writes every create item by item, so the suite covers that path alone. Default "one-statement". */
  createPath?: CreatePath;
}

/** A products instance: the common service shape, plus the database and relay its tests look into. */
export interface Products extends ShopService {
  database: CatalogDatabase;
  /** Undefined when the instance runs without a relay. */
  relay: OutboxRelay | undefined;
}

/**
 * Builds the products service on a platform: its database (schema from the URL or the namespace, migrated when
 * SHOP_MIGRATE_ON_START), the outbox relay publishing what every write committed, and ProductService and
 * ApiKeyService. main.ts, the tests and the benchmarks all start products through this function.
 */
export async function createProducts(
  platform: Platform,
  config: ProductsConfig,
  overrides: ProductsOverrides = {},
): Promise<Products> {
  const { logger } = platform;
  const database = createDatabase(config.SHOP_DATABASE_URL, {
    poolSize: config.SHOP_DATABASE_POOL_SIZE,
    namespace: config.SHOP_NAMESPACE,
  });
  if (config.SHOP_MIGRATE_ON_START) {
    try {
      const applied = await runMigrations(database);
      if (applied.length > 0) logger.info({ applied, schema: database.schema }, "applied migrations");
    } catch (err) {
      await database.close();
      throw err;
    }
  }

  const source =
    overrides.relay === false
      ? undefined
      : createOutboxSource({
          pool: database.pool,
          connectionString: database.url,
          logger,
          retentionMs: config.SHOP_OUTBOX_RETENTION_MS,
        });
  const relay =
    source &&
    startOutboxRelay({
      source,
      publisher: overrides.publisher ?? platform.events,
      logger,
      batchSize: config.SHOP_OUTBOX_BATCH_SIZE,
      pollMs: config.SHOP_OUTBOX_POLL_MS,
      maxInFlight: config.SHOP_OUTBOX_MAX_IN_FLIGHT,
      retryMs: overrides.relayRetryMs,
      metrics: platform.metrics,
    });

  const definition = createProductsService({
    db: database.db,
    namespace: config.SHOP_NAMESPACE,
    apiKeys: platform.apiKeys,
    clock: overrides.clock,
    createPath: overrides.createPath,
  });
  const service = createShopService(platform, {
    ...definition,
    // The relay stops before NATS drains (the platform's own hooks run after these), so its last batch settles.
    onShutdown: [() => relay?.stop(), () => source?.close(), () => database.close()],
  });
  return { ...service, database, relay };
}
