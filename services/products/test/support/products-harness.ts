import { type DescService, fromBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import {
  contractRegistry,
  createLogger,
  createPlatform,
  type EventPublisher,
  eventTypeHeader,
  metaOf,
  namespacedStream,
  type OutboxRelay,
  type Platform,
  type RunningService,
} from "@shop/platform";
import { clientFor, createTestEnv, createTestKeys, type TestEnv, type TestKeys } from "@shop/platform/testing";
import { createProducts, loadProductsConfig, type Products, type ProductsOverrides } from "../../src/index.js";
import type { CatalogDatabase, CreatePath } from "../../src/internal.js";

export const silentLogger = createLogger("products-test", process.env.SHOP_LOG_LEVEL ?? "silent");

/** One event as stored in a stream, in stream order. */
export interface StoredEvent {
  seq: number;
  subject: string;
  typeName: string;
  eventId: string;
  aggregateId: string;
  aggregateVersion: bigint;
}

/** Another products instance on the harness's schema that only relays (a replica's relay), and how to stop it. */
export interface RunningRelay {
  relay: OutboxRelay;
  /** The replica's metrics registry, where its relay reports. */
  metrics: Platform["metrics"];
  stop(): Promise<void>;
}

/** A products service on its own schema and namespace, served in-process, plus the tools its tests need. */
export interface ProductsHarness {
  env: TestEnv;
  /** The served instance's database (the namespace's schema), for looking at rows directly. */
  database: CatalogDatabase;
  server: RunningService & { keys: TestKeys };
  nats: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** A client of `service` with the seller key unless another credential is given. */
  client<S extends DescService>(service: S, credential?: string): Client<S>;
  seller: Client<typeof ProductService>;
  /**
   * Starts another products instance on the same schema whose relay publishes this schema's outbox (the served
   * instance runs none, so tests decide when events flow). `natsUrl` puts that instance on another NATS server.
   */
  startRelay(options?: {
    publisher?: EventPublisher;
    batchSize?: number;
    retryMs?: number;
    /** Default 64, as the service runs it. */
    maxInFlight?: number;
    natsUrl?: string;
  }): Promise<RunningRelay>;
  /** Rows in the outbox, and how many of them are not yet published. */
  outboxCounts(): Promise<{ total: number; unpublished: number }>;
  /** Every message of the namespace's PRODUCTS (or another) stream, in order. */
  readStream(stream?: string, nc?: NatsConnection): Promise<StoredEvent[]>;
  cleanup(): Promise<void>;
}

/**
 * A products instance built by `createProducts` for a test environment: the plain server URL and the namespace, so
 * it finds (or makes) the namespace's schema itself. `env` adds or overrides variables.
 */
export async function startProductsInstance(
  testEnv: TestEnv,
  options: { env?: Record<string, string>; overrides?: ProductsOverrides } = {},
): Promise<{ products: Products; platform: Platform }> {
  const config = loadProductsConfig({
    ...testEnv.serviceEnv,
    SHOP_DATABASE_URL: testEnv.postgresUrl,
    SHOP_PORT: "0",
    SHOP_DATABASE_POOL_SIZE: "20",
    SHOP_OUTBOX_POLL_MS: "200",
    ...options.env,
  });
  const platform = await createPlatform("products", config, { logger: silentLogger });
  try {
    return { products: await createProducts(platform, config, options.overrides), platform };
  } catch (err) {
    await platform.close();
    throw err;
  }
}

/** The served instance runs no relay (tests start relays when they want events to flow); `createPath` as in createProducts. */
export async function startProductsHarness(options: { createPath?: CreatePath } = {}): Promise<ProductsHarness> {
  const env = await createTestEnv();
  const { products, platform } = await startProductsInstance(env, {
    overrides: { relay: false, createPath: options.createPath },
  });
  const running = await products.start();
  const { database } = products;
  const server = { ...running, keys: createTestKeys(platform.apiKeys) };
  const nats = await connect({ servers: env.natsUrl });
  const js = jetstream(nats);
  const jsm = await jetstreamManager(nats);
  const relays = new Set<RunningRelay>();

  const client = <S extends DescService>(service: S, credential = server.keys.seller) =>
    clientFor(service, server.url, { credential });

  const harness: ProductsHarness = {
    env,
    database,
    server,
    nats,
    js,
    jsm,
    client,
    seller: client(ProductService),
    async startRelay(options = {}) {
      const { products: replica, platform: replicaPlatform } = await startProductsInstance(env, {
        env: {
          SHOP_MIGRATE_ON_START: "false",
          SHOP_OUTBOX_MAX_IN_FLIGHT: String(options.maxInFlight ?? 64),
          ...(options.batchSize === undefined ? {} : { SHOP_OUTBOX_BATCH_SIZE: String(options.batchSize) }),
          ...(options.natsUrl === undefined ? {} : { SHOP_NATS_URL: options.natsUrl }),
        },
        overrides: { publisher: options.publisher, relayRetryMs: options.retryMs },
      });
      const running: RunningRelay = {
        relay: replica.relay as OutboxRelay,
        metrics: replicaPlatform.metrics,
        async stop() {
          relays.delete(running);
          await replica.stop();
        },
      };
      relays.add(running);
      return running;
    },
    async outboxCounts() {
      const { rows } = await database.pool.query<{ total: string; unpublished: string }>(
        "select count(*) as total, count(*) filter (where publish_time is null) as unpublished from outbox",
      );
      return { total: Number(rows[0]?.total), unpublished: Number(rows[0]?.unpublished) };
    },
    async readStream(stream = "PRODUCTS", nc = nats) {
      const name = namespacedStream(env.namespace, stream);
      const manager = await jetstreamManager(nc);
      const { state } = await manager.streams.info(name);
      const events: StoredEvent[] = [];
      if (state.messages === 0) return events;
      const consumer = await jetstream(nc).consumers.get(name);
      const messages = await consumer.consume();
      for await (const msg of messages) {
        const typeName = msg.headers?.get(eventTypeHeader) ?? "";
        const schema = contractRegistry.getMessage(typeName);
        if (schema === undefined) throw new Error(`unknown event type "${typeName}" at seq ${msg.seq}`);
        const meta = metaOf(fromBinary(schema, msg.data));
        events.push({
          seq: msg.seq,
          subject: msg.subject,
          typeName,
          eventId: meta.eventId,
          aggregateId: meta.aggregateId,
          aggregateVersion: meta.aggregateVersion,
        });
        if (msg.seq >= state.last_seq) break;
      }
      return events;
    },
    async cleanup() {
      for (const relay of [...relays]) await relay.stop();
      await products.stop();
      await nats.close();
      await env.cleanup();
    },
  };
  return harness;
}

/** Event ids that occur more than once, and aggregates whose versions do not rise in stream order. */
export function orderingProblems(events: StoredEvent[]): { duplicates: string[]; outOfOrder: string[] } {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const lastVersion = new Map<string, bigint>();
  const outOfOrder: string[] = [];
  for (const event of events) {
    if (seen.has(event.eventId)) duplicates.push(event.eventId);
    seen.add(event.eventId);
    const key = `${event.typeName === "shop.products.v1.StockLevelSet" ? "stock" : "entity"}:${event.aggregateId}`;
    const last = lastVersion.get(key);
    if (last !== undefined && event.aggregateVersion <= last) {
      outOfOrder.push(`${key} v${event.aggregateVersion} after v${last}`);
    }
    lastVersion.set(key, event.aggregateVersion);
  }
  return { duplicates, outOfOrder };
}

/** Runs `count` calls with at most `concurrency` in flight. */
export async function inParallel<T>(count: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await call(i);
      }
    }),
  );
  return results;
}
