// Inventory Reserve, end to end over Connect — bench client → the inventory process (as `npm start` runs it: platform
// chain, Lua script in Redis, and the answer only once the outbox relay stored its events in JetStream) — vs the very same reserve script called raw with EVALSHA from a
// bare ioredis client, measured in the same run. Uncontended (16 clients over 1,000 SKUs) and contended (100 clients
// on 10 hot SKUs). A third path, the same script behind a bare Connect handler in its own process, splits the gap into
// what any Node RPC costs and what Shop's service adds on top.
import { createClient } from "@connectrpc/connect";
import { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { inventoryKeys, normalizeLines, reserveInvocation, scriptSources } from "@shop/inventory/internal";
import { generateApiKey } from "@shop/platform";
import { bearer, createTestEnv, transportFor } from "@shop/platform/testing";
import { Redis } from "ioredis";
import { type Comparison, compareInterleaved, measure, report } from "./harness.js";
import { startServiceProcess } from "./service-process.js";

const plenty = 1_000_000_000n;
const hourMs = 3_600_000;

export default async function inventoryBench(): Promise<void> {
  const env = await createTestEnv();
  const service = generateApiKey(Role.SERVICE).secret;
  const operator = generateApiKey(Role.OPERATOR).secret;
  const inventory = await startServiceProcess("inventory", {
    ...env.serviceEnv,
    SHOP_STATIC_API_KEYS: `service:${service},operator:${operator}`,
  });
  const client = createClient(InventoryService, transportFor("connect-binary", inventory.url, [bearer(service)]));
  const admin = createClient(InventoryService, transportFor("connect-binary", inventory.url, [bearer(operator)]));

  // The raw baseline runs on its own keyspace (same layout, same script), which no relay drains.
  const raw = new Redis(env.redisUrl);
  const rawKeys = inventoryKeys(`${env.redisPrefix}raw-`);
  const sha = (await raw.script("LOAD", scriptSources.reserve)) as string;
  await raw.set(rawKeys.ready, "1");

  // The bare-handler baseline: its own keyspace too, and its own process, like the service.
  const bareKeys = inventoryKeys(`${env.redisPrefix}bare-`);
  await raw.set(bareKeys.ready, "1");
  const bare = await startServiceProcess(
    "bare-reserve",
    { SHOP_REDIS_URL: env.redisUrl, BARE_PREFIX: `${env.redisPrefix}bare-` },
    { script: "bench/fixtures/bare-reserve-server.ts" },
  );
  const bareClient = createClient(InventoryService, transportFor("connect-binary", bare.url));

  const skus = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const cold = skus("COLD", 1_000);
  const hot = skus("HOT", 10);
  for (const sku of [...cold, ...hot]) {
    await admin.adjust({ sku, change: { case: "setOnHand", value: plenty }, reason: "bench stock" });
    for (const keyspace of [rawKeys, bareKeys]) {
      await raw.hset(keyspace.sku(sku), "on_hand", String(plenty), "reserved", 0, "version", 1, "seller_version", 0);
    }
  }

  // Ids never repeat, also across warm-up and measurement, so every call is a real reservation (no idempotent replay).
  let next = 0;
  const viaConnect = (pool: string[]) => () => {
    const n = next++;
    return client.reserve({
      reservationId: `c${n}`,
      lines: [{ sku: pool[n % pool.length] as string, quantity: 1n }],
      ttl: { seconds: BigInt(hourMs / 1000) },
    });
  };
  const viaEvalsha = (pool: string[]) => async () => {
    const n = next++;
    const lines = normalizeLines([{ sku: pool[n % pool.length] as string, quantity: 1 }]);
    const call = reserveInvocation(rawKeys, { id: `r${n}`, lines, ttlMs: hourMs, reference: "" }, Date.now());
    const [status] = (await raw.evalsha(sha, call.keys.length, ...call.keys, ...call.args)) as [string];
    if (status !== "ok") throw new Error(status);
  };

  const viaBareConnect = (pool: string[]) => () => {
    const n = next++;
    return bareClient.reserve({
      reservationId: `b${n}`,
      lines: [{ sku: pool[n % pool.length] as string, quantity: 1n }],
      ttl: { seconds: BigInt(hourMs / 1000) },
    });
  };

  const outbox = inventoryKeys(env.redisPrefix).outbox;
  const drainSeconds: Record<string, number> = {};
  const comparisons: Comparison[] = [];
  const runs = [
    { name: "uncontended (16 clients, 1,000 SKUs)", pool: cold, concurrency: 16 },
    { name: "contended (100 clients, 10 hot SKUs)", pool: hot, concurrency: 100 },
  ];
  for (const run of runs) {
    const baseline = await measure({
      label: "raw EVALSHA reserve",
      op: viaEvalsha(run.pool),
      concurrency: run.concurrency,
    });
    // The service and the bare handler in alternating rounds: both are Node processes on this machine, and the
    // ratio between them is the goal this benchmark watches.
    const floor = await compareInterleaved(
      `${run.name}, vs the Node RPC floor`,
      { label: "bare Connect handler, same EVALSHA", op: viaBareConnect(run.pool), concurrency: run.concurrency },
      { label: "Reserve over Connect", op: viaConnect(run.pool), concurrency: run.concurrency },
      4,
    );
    comparisons.push({ name: run.name, subject: floor.subject, baseline });
    comparisons.push(floor);
    // Every Reserve wrote two events; the relay publishes what is left before the next measurement starts.
    const started = performance.now();
    while ((await raw.xlen(outbox)) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    drainSeconds[run.name] = Number(((performance.now() - started) / 1000).toFixed(2));
  }

  const { levels } = await client.getStock({ skus: hot });
  report({
    benchmark: "inventory",
    comparisons,
    extra: {
      "outbox left to publish after each Connect run, drained in (s)": drainSeconds,
      "hot SKUs with reserved > on_hand (must be 0)": levels.filter((l) => l.reserved > l.onHand).length,
    },
  });

  raw.disconnect();
  await bare.stop();
  await inventory.stop();
  await env.cleanup();
}
