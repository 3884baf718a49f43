import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import pg from "pg";
import { locateTestServers, type TestServers } from "./server-locator.js";
import { generateTestTokenKeys } from "./test-token-keys.js";

/** Resources of one test file on the shared servers, all named after one random namespace. */
export interface TestEnv extends TestServers {
  /** e.g. "t3f9a1c": prefix of streams, subjects, consumers; also the Postgres schema and the Redis key prefix. */
  namespace: string;
  /** Postgres URL whose connections use the namespace's own schema. */
  postgresSchemaUrl: string;
  schema: string;
  /** Redis keys of this test start with it, e.g. "t3f9a1c:". */
  redisPrefix: string;
  /** Copies of each stream the services make (SHOP_NATS_STREAM_REPLICAS): 1 unless the test runs its own cluster. */
  natsStreamReplicas: number;
  /** Environment variables a service started for this test reads. */
  serviceEnv: Record<string, string>;
  /** Drops the schema, deletes the streams and Redis keys. */
  cleanup(): Promise<void>;
}

/** What a test changes about its environment. */
export interface TestEnvOptions {
  /**
   * NATS servers the test owns instead of the shared one, e.g. every node of `startOwnNatsCluster`, and the replicas
   * its streams get. Default: the shared server, streams at 1 replica.
   */
  nats?: {
    urls: string[];
    streamReplicas?: number;
    /**
     * false leaves the streams to the test, which disposes of the whole server (one that lets no unauthenticated
     * client delete streams, as a server with per-service users). Default true: cleanup deletes them.
     */
    removeStreams?: boolean;
  };
}

/** Gives a test file isolated resources on the running servers; call `cleanup` in afterAll. */
export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const located = await locateTestServers();
  // As SHOP_NATS_URL lists them: comma-separated.
  const servers = options.nats ? { ...located, natsUrl: options.nats.urls.join(",") } : located;
  const natsStreamReplicas = options.nats?.streamReplicas ?? 1;
  const namespace = `t${randomBytes(4).toString("hex")}`;
  const schema = namespace;

  const admin = new pg.Client({ connectionString: servers.postgresUrl });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.end();
  const schemaUrl = new URL(servers.postgresUrl);
  schemaUrl.searchParams.set("options", `-c search_path=${schema}`);

  return {
    ...servers,
    namespace,
    schema,
    postgresSchemaUrl: schemaUrl.toString(),
    redisPrefix: `${namespace}:`,
    natsStreamReplicas,
    serviceEnv: {
      SHOP_NAMESPACE: namespace,
      SHOP_NATS_URL: servers.natsUrl,
      SHOP_NATS_STREAM_REPLICAS: String(natsStreamReplicas),
      SHOP_DATABASE_URL: schemaUrl.toString(),
      SHOP_REDIS_URL: servers.redisUrl,
      SHOP_REDIS_PREFIX: `${namespace}:`,
      SHOP_LOG_LEVEL: process.env.SHOP_LOG_LEVEL ?? "silent",
      SHOP_TOKEN_KEYS: generateTestTokenKeys(),
    },
    cleanup: () => cleanupNamespace(servers, namespace, { removeStreams: options.nats?.removeStreams ?? true }),
  };
}

/** Drops the namespace's Postgres schema, its streams (and KV buckets, unless `removeStreams` is false) and Redis keys. */
export async function cleanupNamespace(
  servers: TestServers,
  namespace: string,
  options: { removeStreams?: boolean } = {},
): Promise<void> {
  const client = new pg.Client({ connectionString: servers.postgresUrl });
  await client.connect();
  await client.query(`drop schema if exists "${namespace}" cascade`);
  await client.end();

  if (options.removeStreams ?? true) {
    const nc = await connect({ servers: servers.natsUrl.split(",") });
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${namespace}_`) || name.startsWith(`KV_${namespace}`)) await jsm.streams.delete(name);
    }
    await nc.close();
  }

  const redis = new Redis(servers.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  redis.disconnect();
}
