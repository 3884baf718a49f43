import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ProductSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import { createEventPublisher, type EventPublisher } from "@shop/platform";
import { metricValue, startOwnNats, waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboxSource } from "../src/internal.js";
import {
  inParallel,
  orderingProblems,
  type ProductsHarness,
  silentLogger,
  startProductsHarness,
} from "./support/products-harness.js";

let h: ProductsHarness;

beforeAll(async () => {
  h = await startProductsHarness();
});
afterAll(() => h?.cleanup());

let serial = 0;
const newProduct = () => {
  const n = ++serial;
  return create(ProductSchema, {
    title: `Relay product ${n}`,
    price: { currencyCode: "EUR", amountMinor: BigInt(100 + n) },
    variants: [{ sku: `RELAY-${n}` }],
  });
};

/** Creates products, then updates each one `updates` times, so every product has a run of versions to keep in order. */
async function writeProducts(count: number, updates: number): Promise<string[]> {
  const created = await inParallel(count, 20, () => h.seller.createProduct({ product: newProduct() }));
  await inParallel(count, 20, async (i) => {
    let product = created[i];
    for (let u = 0; u < updates && product; u++) {
      product = await h.seller.updateProduct({
        product: { ...product, title: `${product.title} (edit ${u + 1})` },
        updateMask: { paths: ["title"] },
      });
    }
  });
  return created.map((product) => product.id);
}

/** A publisher that counts what it sends and how often JetStream answered "duplicate". */
function countingPublisher(inner: EventPublisher) {
  const counts = { attempts: 0, duplicates: 0 };
  const publisher: EventPublisher = {
    publish: inner.publish,
    async publishEncoded(event, options) {
      counts.attempts++;
      const ack = await inner.publishEncoded(event, options);
      if (ack.duplicate) counts.duplicates++;
      return ack;
    },
  };
  return { publisher, counts };
}

async function expectStreamMatchesOutbox(nc?: NatsConnection) {
  const events = await h.readStream("PRODUCTS", nc);
  const { total, unpublished } = await h.outboxCounts();
  expect(unpublished).toBe(0);
  expect(orderingProblems(events)).toEqual({ duplicates: [], outOfOrder: [] });
  expect(events.length).toBe(total);
  return events;
}

describe("outbox relay", () => {
  it("publishes every committed write once, in per-product order", async () => {
    const relay = await h.startRelay();
    await writeProducts(20, 2);
    await waitFor(async () => (await h.outboxCounts()).unpublished === 0, 20_000);
    await relay.stop();
    await expectStreamMatchesOutbox();
  });

  it("republishes a batch after the relay is killed mid-batch, and JetStream stores each event once", async () => {
    await writeProducts(100, 2);
    const before = await h.outboxCounts();
    expect(before.unpublished).toBe(300);
    const fixture = fileURLToPath(new URL("./fixtures/relay-process.ts", import.meta.url));
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", fixture], {
      env: {
        ...process.env,
        ...h.env.serviceEnv,
        SHOP_DATABASE_URL: h.env.postgresUrl,
        SHOP_MIGRATE_ON_START: "false",
        SHOP_OUTBOX_BATCH_SIZE: "100",
        SHOP_OUTBOX_MAX_IN_FLIGHT: "1",
        HANG_AFTER: "150",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    try {
      const [line] = (await new Promise<string[]>((resolve) => lines.once("line", (l) => resolve([l])))) as string[];
      expect(line).toBe("hung after 150");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    // The first batch was marked sent; the second (50 of 100 published) rolled back with the dead connection.
    await waitFor(async () => (await h.outboxCounts()).unpublished === 200, 20_000);
    const { publisher, counts } = countingPublisher(createEventPublisher(h.js, h.env.namespace));
    const relay = await h.startRelay({ publisher });
    await waitFor(async () => (await h.outboxCounts()).unpublished === 0, 20_000);
    await relay.stop();
    expect(counts.attempts).toBe(200);
    expect(counts.duplicates).toBe(50);
    await expectStreamMatchesOutbox();
  });

  it("runs two relays together without duplicates or gaps (one publishes at a time)", async () => {
    const { publisher, counts } = countingPublisher(createEventPublisher(h.js, h.env.namespace));
    const before = await h.outboxCounts();
    const relays = [await h.startRelay({ publisher, batchSize: 16 }), await h.startRelay({ publisher, batchSize: 16 })];
    await writeProducts(150, 2);
    await waitFor(async () => (await h.outboxCounts()).unpublished === 0, 20_000);
    for (const relay of relays) await relay.stop();
    const after = await h.outboxCounts();
    expect(counts.attempts).toBe(after.total - before.total);
    expect(counts.duplicates).toBe(0);
    await expectStreamMatchesOutbox();
  });

  it("prunes published rows after the retention period and keeps unpublished ones", async () => {
    const relay = await h.startRelay();
    await writeProducts(3, 0);
    await waitFor(async () => (await h.outboxCounts()).unpublished === 0, 20_000);
    await relay.stop();
    const source = createOutboxSource({
      pool: h.database.pool,
      connectionString: h.database.url,
      logger: silentLogger,
      retentionMs: 0,
      pruneEveryMs: 0,
    });
    await writeProducts(1, 0);
    expect(await source.prune()).toBeGreaterThan(0);
    expect(await h.outboxCounts()).toEqual({ total: 1, unpublished: 1 });
    await source.close();
  });
});

describe("NATS outage", () => {
  it("accepts 1,000 writes while NATS is down and publishes all of them once when it is back", async () => {
    const natsServer = await startOwnNats();
    const nc = await connect({
      servers: natsServer.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    try {
      const relay = await h.startRelay({ natsUrl: natsServer.url, retryMs: 50 });
      await waitFor(async () => (await h.outboxCounts()).unpublished === 0, 20_000);
      const alreadyInStream = (await h.readStream("PRODUCTS", nc)).length;

      const metric = (name: string, labels?: Record<string, string>) => metricValue(relay.metrics, name, labels);
      const publishedBefore = (await metric("outbox_events_published_total")) ?? 0;
      expect(await metric("outbox_backlog_events")).toBe(0);
      expect(await metric("outbox_oldest_event_age_seconds")).toBe(0);

      await natsServer.kill();
      const ids = await writeProducts(1_000, 0);
      expect(new Set(ids).size).toBe(1_000);
      expect((await h.outboxCounts()).unpublished).toBe(1_000);
      // What an operator sees meanwhile: the backlog, how long its oldest event has waited, and failing publishes.
      expect(await metric("outbox_backlog_events")).toBe(1_000);
      expect(await metric("outbox_oldest_event_age_seconds")).toBeGreaterThan(0);
      await waitFor(async () => ((await metric("outbox_relay_failures_total", { step: "publish" })) ?? 0) > 0, 30_000);

      await natsServer.start();
      await waitFor(async () => (await h.outboxCounts()).unpublished === 0, 60_000);
      expect(await metric("outbox_backlog_events")).toBe(0);
      expect(await metric("outbox_oldest_event_age_seconds")).toBe(0);
      expect(((await metric("outbox_events_published_total")) ?? 0) - publishedBefore).toBeGreaterThanOrEqual(1_000);
      await relay.stop();
      const events = await h.readStream("PRODUCTS", nc);
      const created = events.slice(alreadyInStream).filter((e) => e.typeName === "shop.products.v1.ProductCreated");
      expect(created.map((e) => e.aggregateId).sort()).toEqual([...ids].sort());
      expect(orderingProblems(events)).toEqual({ duplicates: [], outOfOrder: [] });
    } finally {
      await nc.close();
      await natsServer.dispose();
    }
  }, 90_000);
});
