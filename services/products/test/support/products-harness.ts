import { type DescService, fromBinary } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import {
  ApiKeyRegistry,
  contractRegistry,
  contractStreams,
  createEventPublisher,
  createLogger,
  type EventPublisher,
  ensureStreams,
  eventTypeHeader,
  metaOf,
  namespacedStream,
  type OutboxRelay,
  type RunningService,
  startOutboxRelay,
} from "@shop/platform";
import { clientFor, createTestEnv, startTestService, type TestEnv, type TestKeys } from "@shop/platform/testing";
import { createDatabase, createOutboxSource, createProductsService, runMigrations } from "../../src/index.js";
import type { CatalogDatabase } from "../../src/store/database.js";
import type { PostgresOutboxSource } from "../../src/store/outbox-source.js";

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

export interface RunningRelay {
  relay: OutboxRelay;
  source: PostgresOutboxSource;
  stop(): Promise<void>;
}

/** A products service on its own schema and namespace, served in-process, plus the tools its tests need. */
export interface ProductsHarness {
  env: TestEnv;
  database: CatalogDatabase;
  server: RunningService & { keys: TestKeys; apiKeys: ApiKeyRegistry };
  nats: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** A client of `service` with the seller key unless another credential is given. */
  client<S extends DescService>(service: S, credential?: string): Client<S>;
  seller: Client<typeof ProductService>;
  /** Starts a relay over this schema's outbox; `publisher` defaults to one on the harness's NATS connection. */
  startRelay(options?: {
    publisher?: EventPublisher;
    batchSize?: number;
    retryMs?: number;
    /** Default 64, as the service runs it. */
    maxInFlight?: number;
  }): RunningRelay;
  /** Rows in the outbox, and how many of them are not yet published. */
  outboxCounts(): Promise<{ total: number; unpublished: number }>;
  /** Every message of the namespace's PRODUCTS (or another) stream, in order. */
  readStream(stream?: string, nc?: NatsConnection): Promise<StoredEvent[]>;
  cleanup(): Promise<void>;
}

export async function startProductsHarness(): Promise<ProductsHarness> {
  const env = await createTestEnv();
  const database = createDatabase(env.postgresSchemaUrl, { poolSize: 20 });
  await runMigrations(database.pool);
  const apiKeys = new ApiKeyRegistry();
  const server = await startTestService(createProductsService({ db: database.db, namespace: env.namespace, apiKeys }), {
    apiKeys,
  });
  const nats = await connect({ servers: env.natsUrl });
  const js = jetstream(nats);
  const jsm = await jetstreamManager(nats);
  await ensureStreams(jsm, contractStreams(env.namespace));
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
    startRelay(options = {}) {
      const source = createOutboxSource({
        pool: database.pool,
        connectionString: env.postgresSchemaUrl,
        logger: silentLogger,
        pruneEveryMs: 0,
      });
      const relay = startOutboxRelay({
        source,
        publisher: options.publisher ?? createEventPublisher(js, env.namespace),
        logger: silentLogger,
        batchSize: options.batchSize,
        retryMs: options.retryMs,
        maxInFlight: options.maxInFlight ?? 64,
        pollMs: 200,
      });
      const running: RunningRelay = {
        relay,
        source,
        async stop() {
          relays.delete(running);
          await relay.stop();
          await source.close();
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
      await server.shutdown();
      await database.close();
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
