import { create } from "@bufbuild/protobuf";
import { ProductCreatedSchema, StockLevelSetSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLogger,
  type EventConsumerOptions,
  eventSubject,
  isNewer,
  MemoryAppliedVersions,
  namespacedStream,
  newEventMeta,
  on,
  startEventConsumer,
} from "../src/index.js";
import {
  createTestEnv,
  metricValue,
  openTestJetStream,
  type TestEnv,
  type TestJetStream,
  waitFor,
} from "../src/testing/index.js";

let env: TestEnv;
let stream: TestJetStream;
const logger = createLogger("events-test", "silent");

beforeAll(async () => {
  env = await createTestEnv();
  stream = await openTestJetStream(env);
});

afterAll(async () => {
  await stream?.close();
  await env?.cleanup();
});

const stockLevelSet = (sku: string, quantity: number, version: number) =>
  create(StockLevelSetSchema, { meta: newEventMeta(sku, version), sku, quantity: BigInt(quantity), productId: "p1" });

/** A consumer of this file's namespace on the test's JetStream, with the silent logger. */
const consumerOfThisNamespace = (options: Omit<EventConsumerOptions, "js" | "jsm" | "logger" | "namespace">) =>
  startEventConsumer({ ...options, js: stream.js, jsm: stream.jsm, logger, namespace: env.namespace });

describe("contract subjects and streams", () => {
  it("fills subject templates from the event and prefixes the namespace", () => {
    const event = create(ProductCreatedSchema, { meta: newEventMeta("p42", 1), product: { id: "p42" } });
    expect(eventSubject(ProductCreatedSchema, event)).toBe("shop.products.product.p42");
    expect(eventSubject(ProductCreatedSchema, event, "ns1")).toBe("ns1.shop.products.product.p42");
  });

  it("refuses to publish an event whose subject token would be empty", () => {
    const event = create(ProductCreatedSchema, { meta: newEventMeta("", 1), product: { id: "" } });
    expect(() => eventSubject(ProductCreatedSchema, event)).toThrow(/product\.id/);
  });

  it("provisions one stream per contract stream plus the dead-letter stream", async () => {
    const names: string[] = [];
    for await (const name of stream.jsm.streams.names()) if (name.startsWith(`${env.namespace}_`)) names.push(name);
    expect(names.sort()).toEqual(
      ["DEAD_LETTER", "IDENTITY", "INVENTORY", "ORDERS", "PRODUCTS"].map((s) => namespacedStream(env.namespace, s)),
    );
  });
});

describe("publishing", () => {
  it("stores an event published twice with the same id once", async () => {
    const event = stockLevelSet("DUP-1", 5, 1);
    const first = await stream.events.publish(StockLevelSetSchema, event);
    const second = await stream.events.publish(StockLevelSetSchema, event);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    const stored = await stream.jsm.streams.getMessage(namespacedStream(env.namespace, "PRODUCTS"), {
      last_by_subj: `${env.namespace}.shop.products.stock.DUP-1`,
    });
    expect(stored?.seq).toBe(first.seq);
    const info = await stream.jsm.streams.info(namespacedStream(env.namespace, "PRODUCTS"), {
      subjects_filter: `${env.namespace}.shop.products.stock.DUP-1`,
    });
    expect(info.state.subjects?.[`${env.namespace}.shop.products.stock.DUP-1`]).toBe(1);
  });
});

describe("consuming", () => {
  it("drops duplicates and stale versions with the version gate", async () => {
    const applied = new MemoryAppliedVersions();
    const levels = new Map<string, bigint>();
    const consumer = await consumerOfThisNamespace({
      name: "gate-test",
      handlers: [
        on(StockLevelSetSchema, async (event) => {
          if (!(await isNewer(event.meta!, applied))) return;
          levels.set(event.sku, event.quantity);
          applied.set(event.meta!.aggregateId, event.meta!.aggregateVersion);
        }),
      ],
    });
    await stream.events.publish(StockLevelSetSchema, stockLevelSet("GATE-1", 10, 2));
    await stream.events.publish(StockLevelSetSchema, stockLevelSet("GATE-1", 99, 1)); // stale: older version
    await stream.events.publish(StockLevelSetSchema, stockLevelSet("GATE-1", 98, 2)); // duplicate version, new id
    await consumer.caughtUp();
    expect(levels.get("GATE-1")).toBe(10n);
    await consumer.stop();
  });

  it("reports at each scrape how many events wait for a consumer and how many it holds unacknowledged", async () => {
    const metrics = new Registry();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const lag = (name: string) => metricValue(metrics, name, { consumer: `${env.namespace}_lag-test` });
    for (const sku of ["LAG-1", "LAG-2", "LAG-3"]) {
      await stream.events.publish(StockLevelSetSchema, stockLevelSet(sku, 1, 1));
    }
    const consumer = await consumerOfThisNamespace({
      metrics,
      name: "lag-test",
      // Only the LAG events are held until released, so exactly those three stay unacknowledged.
      handlers: [on(StockLevelSetSchema, (event) => (event.sku.startsWith("LAG-") ? held : undefined))],
    });
    await waitFor(async () => (await lag("event_consumer_unacked_events")) === 3);
    expect(await lag("event_consumer_pending_events")).toBe(0);
    release();
    await consumer.caughtUp();
    expect(await lag("event_consumer_unacked_events")).toBe(0);
    await consumer.stop();
    // A stopped consumer is no longer asked about.
    expect(await lag("event_consumer_unacked_events")).toBeUndefined();
  });

  it("moves a poison message to the dead-letter stream after the configured deliveries", async () => {
    let attempts = 0;
    const good: string[] = [];
    const metrics = new Registry();
    const consumer = await consumerOfThisNamespace({
      metrics,
      name: "poison-test",
      maxDeliver: 3,
      backoffMs: [10],
      handlers: [
        on(StockLevelSetSchema, (event) => {
          if (event.sku === "POISON-1") {
            attempts++;
            throw new Error("cannot apply this one");
          }
          good.push(event.sku);
        }),
      ],
    });
    await stream.events.publish(StockLevelSetSchema, stockLevelSet("POISON-1", 1, 1));
    await stream.events.publish(StockLevelSetSchema, stockLevelSet("FINE-1", 1, 1));
    const deadLetters = namespacedStream(env.namespace, "DEAD_LETTER");
    await waitFor(async () => (await stream.jsm.streams.info(deadLetters)).state.messages === 1);
    await consumer.caughtUp();
    expect(attempts).toBe(3);
    expect(good).toContain("FINE-1");
    const dead = await stream.jsm.streams.getMessage(deadLetters, {
      last_by_subj: `${env.namespace}.shop.deadletter.poison-test`,
    });
    expect(dead?.header.get("Shop-Error")).toBe("cannot apply this one");
    expect(dead?.header.get("Shop-Original-Subject")).toBe(`${env.namespace}.shop.products.stock.POISON-1`);
    const settled = (outcome: string) =>
      metricValue(metrics, "event_consumer_events_total", { consumer: `${env.namespace}_poison-test`, outcome });
    expect(await settled("handled")).toBe(good.length);
    expect(await settled("retried")).toBe(2);
    expect(await settled("dead_lettered")).toBe(1);
    await consumer.stop();
  });
});
