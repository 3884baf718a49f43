import { create } from "@bufbuild/protobuf";
import {
  ReservationChangedSchema,
  StockChangedSchema,
  StockChangeReason,
} from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { StockLevelSetSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import { newEventMeta } from "@shop/platform";
import { createTestEnv, scrapedValue, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryHarness, startInventoryHarness } from "./support/inventory-harness.js";
import { readEvents } from "./support/ledger-events.js";

let env: TestEnv;
let inv: InventoryHarness;

beforeAll(async () => {
  env = await createTestEnv();
  inv = await startInventoryHarness(env);
});

afterAll(async () => {
  await inv?.stop();
  await env?.cleanup();
});

const sellerSets = (sku: string, quantity: number, version: number) =>
  inv.platform.events.publish(
    StockLevelSetSchema,
    create(StockLevelSetSchema, {
      meta: newEventMeta(sku, version),
      sku,
      quantity: BigInt(quantity),
      productId: "p-1",
    }),
  );

const levelOf = async (sku: string) => (await inv.operator.getStock({ skus: [sku] })).levels[0];

describe("seller stock levels (StockLevelSet)", () => {
  it("sets on-hand from the seller's level and ignores stale and duplicate versions", async () => {
    await sellerSets("SELL-1", 10, 2);
    await sellerSets("SELL-1", 99, 1); // stale: an older version arriving late
    await sellerSets("SELL-1", 98, 2); // same version again under a new event id
    await inv.inventory.consumer.caughtUp();
    expect(await levelOf("SELL-1")).toMatchObject({ onHand: 10n, available: 10n, version: 1n });
    await sellerSets("SELL-1", 12, 3);
    await inv.inventory.consumer.caughtUp();
    expect(await levelOf("SELL-1")).toMatchObject({ onHand: 12n, version: 2n });
  });

  it("keeps holds when the seller's level changes, and never offers a negative amount", async () => {
    await sellerSets("SELL-2", 5, 1);
    await inv.inventory.consumer.caughtUp();
    await inv.operator.reserve({ reservationId: "sell-2", lines: [{ sku: "SELL-2", quantity: 4n }] });
    await sellerSets("SELL-2", 3, 2);
    await inv.inventory.consumer.caughtUp();
    expect(await levelOf("SELL-2")).toMatchObject({ onHand: 3n, reserved: 4n, available: 0n });
    await inv.operator.commit({ reservationId: "sell-2" });
    expect(await levelOf("SELL-2")).toMatchObject({ onHand: 0n, reserved: 0n, available: 0n });
  });
});

describe("published events", () => {
  it("publishes a StockChanged for every change of a SKU, once each, with the live level", async () => {
    await sellerSets("PUB-1", 10, 1);
    await inv.inventory.consumer.caughtUp();
    await inv.operator.reserve({ reservationId: "pub-1", lines: [{ sku: "PUB-1", quantity: 3n }] });
    await inv.operator.reserve({ reservationId: "pub-1", lines: [{ sku: "PUB-1", quantity: 3n }] }); // a retry
    await inv.operator.commit({ reservationId: "pub-1" });
    await inv.operator.adjust({ sku: "PUB-1", change: { case: "delta", value: 1n }, reason: "found one" });
    await inv.inventory.outboxDrained();

    const changes = await readEvents(inv.platform.js, env.namespace, StockChangedSchema, "shop.inventory.stock.PUB-1");
    expect(
      changes.map((e) => [e.reason, e.level?.onHand, e.level?.reserved, e.level?.available, e.level?.version]),
    ).toEqual([
      [StockChangeReason.SELLER_SET, 10n, 0n, 10n, 1n],
      [StockChangeReason.RESERVED, 10n, 3n, 7n, 2n],
      [StockChangeReason.COMMITTED, 7n, 0n, 7n, 3n],
      [StockChangeReason.ADJUSTED, 8n, 0n, 8n, 4n],
    ]);
    expect(changes.map((e) => e.meta?.aggregateId)).toEqual(["PUB-1", "PUB-1", "PUB-1", "PUB-1"]);
    expect(changes.every((e) => e.sellerVersion === 1n)).toBe(true);
    expect(new Set(changes.map((e) => e.meta?.eventId)).size).toBe(4);

    // The pipeline shows on the service's /metrics: the relay's count and empty backlog, the consumer caught up.
    const metric = (name: string, labels: Record<string, string> = {}) => scrapedValue(inv.url, name, labels);
    expect(await metric("outbox_events_published_total")).toBeGreaterThanOrEqual(5);
    expect(await metric("outbox_backlog_events")).toBe(0);
    const consumer = `${env.namespace}_inventory-seller-stock`;
    expect(await metric("event_consumer_events_total", { consumer, outcome: "handled" })).toBeGreaterThanOrEqual(1);
    expect(await metric("event_consumer_pending_events", { consumer })).toBe(0);
  });

  it("publishes a ReservationChanged for every state change of a reservation", async () => {
    await inv.operator.adjust({ sku: "PUB-2", change: { case: "setOnHand", value: 5n }, reason: "setup" });
    await inv.operator.reserve({
      reservationId: "pub-2",
      lines: [{ sku: "PUB-2", quantity: 1n }],
      reference: "order-9",
    });
    await inv.operator.release({ reservationId: "pub-2", reason: "payment failed" });
    await inv.operator.release({ reservationId: "pub-2" });
    await inv.inventory.outboxDrained();
    const changes = await readEvents(
      inv.platform.js,
      env.namespace,
      ReservationChangedSchema,
      "shop.inventory.reservation.pub-2",
    );
    expect(changes.map((e) => [e.reservation?.state, e.meta?.aggregateVersion, e.meta?.correlationId])).toEqual([
      [ReservationState.HELD, 1n, "order-9"],
      [ReservationState.RELEASED, 2n, "order-9"],
    ]);
  });
});
