import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import type { RebuildProgress } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { StockLevelSetSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import { newEventMeta } from "@shop/platform";
import { codeOf, createTestEnv, type OwnServer, startOwnRedis, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventoryKeys } from "../src/internal.js";
import { type InventoryHarness, observer, startInventoryHarness } from "./support/inventory-harness.js";

let env: TestEnv;
let redis: OwnServer;
let inv: InventoryHarness;

beforeAll(async () => {
  env = await createTestEnv();
  redis = await startOwnRedis();
  inv = await startInventoryHarness(env, { env: { SHOP_REDIS_URL: redis.url } });
});

afterAll(async () => {
  await inv?.stop();
  await redis?.dispose();
  await env?.cleanup();
});

const skus = ["RB-1", "RB-2", "RB-3", "RB-4"];

const sellerSets = (sku: string, quantity: number, version: number) =>
  inv.platform.events.publish(
    StockLevelSetSchema,
    create(StockLevelSetSchema, { meta: newEventMeta(sku, version), sku, quantity: BigInt(quantity), productId: "p" }),
  );

async function rebuild(): Promise<RebuildProgress[]> {
  const reports: RebuildProgress[] = [];
  for await (const progress of inv.operator.rebuild({})) reports.push(progress);
  return reports;
}

/** Kills Redis (losing every key) and starts it again empty; resolves once the service's connection is back. */
async function wipeRedis(whileDown: () => Promise<unknown> = async () => undefined) {
  await redis.kill();
  await whileDown();
  await redis.start();
  while (inv.inventory.redis.status !== "ready") await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("rebuild after Redis lost its data", () => {
  it("restores the same levels, open holds and the seller version gate from the JetStream ledger", async () => {
    for (const [i, sku] of skus.entries()) await sellerSets(sku, 10 * (i + 1), 1);
    await inv.inventory.consumer.caughtUp();
    await inv.operator.reserve({
      reservationId: "rb-held",
      lines: [
        { sku: "RB-1", quantity: 2n },
        { sku: "RB-2", quantity: 3n },
      ],
      ttl: durationFromMs(600_000),
      reference: "order-1",
    });
    await inv.operator.reserve({ reservationId: "rb-sold", lines: [{ sku: "RB-3", quantity: 4n }] });
    await inv.operator.commit({ reservationId: "rb-sold" });
    await inv.operator.adjust({ sku: "RB-4", change: { case: "delta", value: -5n }, reason: "damaged" });
    await inv.inventory.outboxDrained();
    const before = await inv.operator.getStock({ skus });
    const heldBefore = await inv.operator.getReservation({ reservationId: "rb-held" });

    await wipeRedis();
    // An emptied Redis would claim every SKU sold out; the service says Unavailable and starts restoring instead.
    // Both calls are in flight together, so the second cannot land after the restore the first one started.
    expect(
      await Promise.all([
        codeOf(inv.operator.getStock({ skus })),
        codeOf(inv.operator.adjust({ sku: "RB-1", change: { case: "delta", value: 1n }, reason: "x" })),
      ]),
    ).toEqual([Code.Unavailable, Code.Unavailable]);

    const reports = await rebuild();
    const last = reports.at(-1);
    expect(last).toMatchObject({ done: true, skusRestored: 4n, reservationsRestored: 2n });
    expect(last?.eventsRead).toBe(last?.eventsTotal);

    expect(await inv.operator.getStock({ skus })).toEqual(before);
    expect(await inv.operator.getReservation({ reservationId: "rb-held" })).toEqual(heldBefore);
    const held = await inv.operator.listReservations({ state: ReservationState.HELD });
    expect(held.reservations.map((r) => r.id)).toEqual(["rb-held"]);

    // The restored hold behaves like any other: a repeated Reserve is recognised, Commit sells it.
    expect(
      await inv.operator.reserve({
        reservationId: "rb-held",
        lines: [
          { sku: "RB-2", quantity: 3n },
          { sku: "RB-1", quantity: 2n },
        ],
      }),
    ).toEqual(heldBefore);
    await inv.operator.commit({ reservationId: "rb-held" });
    expect((await inv.operator.getStock({ skus: ["RB-1"] })).levels[0]).toMatchObject({ onHand: 8n, reserved: 0n });
    // A finished reservation is restored too, so repeating its Commit still answers the same.
    expect((await inv.operator.commit({ reservationId: "rb-sold" })).state).toBe(ReservationState.COMMITTED);

    // The seller gate survived: an old level is still ignored, a newer one applies.
    await sellerSets("RB-4", 1, 1);
    await sellerSets("RB-3", 77, 2);
    await inv.inventory.consumer.caughtUp();
    const { levels } = await inv.operator.getStock({ skus: ["RB-3", "RB-4"] });
    expect(levels.map((l) => l.onHand)).toEqual([77n, 35n]);
  });

  it("replays a seller level that reached JetStream but not Redis, and can run again without changing anything", async () => {
    await inv.inventory.outboxDrained();
    const before = await inv.operator.getStock({ skus });
    // Delivered while Redis is down and then empty: the consumer waits for the restore, then applies it on top.
    await wipeRedis(() => sellerSets("RB-1", 500, 5));
    await inv.inventory.consumer.caughtUp(30_000);
    await inv.inventory.rebuild.idle();
    const { levels } = await inv.operator.getStock({ skus });
    expect(levels.map((l) => l.onHand)).toEqual([500n, ...before.levels.slice(1).map((l) => l.onHand)]);

    await inv.inventory.outboxDrained();
    const settled = await inv.operator.getStock({ skus });
    const again = await rebuild();
    expect(again.at(-1)).toMatchObject({ done: true, skusRestored: 0n, reservationsRestored: 0n });
    expect(await inv.operator.getStock({ skus })).toEqual(settled);
  });

  it("runs one rebuild at a time: a second call follows the running one to its end", async () => {
    const [first, second] = await Promise.all([rebuild(), rebuild()]);
    expect(first.at(-1)?.done).toBe(true);
    expect(second.at(-1)).toEqual(first.at(-1));
  });

  it("keeps an acknowledged Commit sold after Redis lost its data, even when the relay was held up", async () => {
    await sellerSets("RB-5", 10, 1);
    await inv.inventory.consumer.caughtUp();
    await inv.operator.reserve({ reservationId: "rb-ack", lines: [{ sku: "RB-5", quantity: 4n }] });
    // Another replica holds the relay lease and stalls; this one cannot publish until the lease runs out.
    const lessee = observer(redis.url);
    await lessee.set(inventoryKeys(env.redisPrefix).outboxLease, "stalled-replica", "PX", 1_500);
    lessee.disconnect();

    expect((await inv.operator.commit({ reservationId: "rb-ack" })).state).toBe(ReservationState.COMMITTED);
    await wipeRedis();
    await rebuild();

    expect((await inv.operator.getStock({ skus: ["RB-5"] })).levels[0]).toMatchObject({ onHand: 6n, reserved: 0n });
    expect((await inv.operator.getReservation({ reservationId: "rb-ack" })).state).toBe(ReservationState.COMMITTED);
    expect(
      await codeOf(inv.operator.reserve({ reservationId: "rb-more", lines: [{ sku: "RB-5", quantity: 7n }] })),
    ).toBe(Code.ResourceExhausted);
  });

  it("restores by itself when it starts on an emptied Redis", async () => {
    await inv.inventory.outboxDrained();
    const before = await inv.operator.getStock({ skus });
    await inv.stop();
    await redis.kill();
    await redis.start();
    inv = await startInventoryHarness(env, { env: { SHOP_REDIS_URL: redis.url } });
    await inv.inventory.rebuild.idle();
    expect(await inv.operator.getStock({ skus })).toEqual(before);
  });
});
