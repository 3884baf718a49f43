// Process entry of the products service: config, database, migrations, relay, serve, graceful shutdown.
import { createLogger, createPlatform, exitOnSignals, loadConfigOrExit, startOutboxRelay } from "@shop/platform";
import { loadProductsConfig } from "./config.js";
import { createProductsService } from "./service.js";
import { createDatabase } from "./store/database.js";
import { runMigrations } from "./store/migrator.js";
import { createOutboxSource } from "./store/outbox-source.js";

const config = loadConfigOrExit("products", loadProductsConfig);

const logger = createLogger("products", config.SHOP_LOG_LEVEL);
const database = createDatabase(config.SHOP_DATABASE_URL, { poolSize: config.SHOP_DATABASE_POOL_SIZE });
if (config.SHOP_MIGRATE_ON_START) {
  const applied = await runMigrations(database.pool);
  if (applied.length > 0) logger.info({ applied }, "applied migrations");
}

const platform = await createPlatform("products", config, { logger });
const source = createOutboxSource({
  pool: database.pool,
  connectionString: config.SHOP_DATABASE_URL,
  logger,
  retentionMs: config.SHOP_OUTBOX_RETENTION_MS,
});
const relay = startOutboxRelay({
  source,
  publisher: platform.events,
  logger,
  batchSize: config.SHOP_OUTBOX_BATCH_SIZE,
  pollMs: config.SHOP_OUTBOX_POLL_MS,
  maxInFlight: config.SHOP_OUTBOX_MAX_IN_FLIGHT,
});

const definition = createProductsService({
  db: database.db,
  namespace: config.SHOP_NAMESPACE,
  apiKeys: platform.apiKeys,
});
const running = await platform.serve({
  ...definition,
  // The relay stops before NATS drains (the platform's own hooks run after these), so its last batch settles.
  onShutdown: [() => relay.stop(), () => source.close(), () => database.close()],
});
exitOnSignals(running, logger);
