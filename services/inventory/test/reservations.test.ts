import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { codeOf, createTestEnv, type TestEnv } from "@shop/platform/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventoryKeys } from "../src/internal.js";
import { type InventoryHarness, observer, startInventoryHarness } from "./support/inventory-harness.js";
import { readEvents } from "./support/ledger-events.js";

let env: TestEnv;
let inv: InventoryHarness;
let redis: Redis;

beforeAll(async () => {
  env = await createTestEnv();
  inv = await startInventoryHarness(env);
  redis = observer(env.redisUrl);
});

afterAll(async () => {
  await inv?.stop();
  redis?.disconnect();
  await env?.cleanup();
});

const stockOf = async (sku: string) => {
  const { levels } = await inv.operator.getStock({ skus: [sku] });
  return levels[0];
};

const setOnHand = (sku: string, units: number) =>
  inv.operator.adjust({ sku, change: { case: "setOnHand", value: BigInt(units) }, reason: "test setup" });

describe("reserving under contention", () => {
  it("sells exactly the stock when 1,000 buyers race for 100 units, and never shows a negative level", async () => {
    await setOnHand("RACE-1", 100);
    const service = inv.clientAs("service", "grpc");
    const skuKey = inventoryKeys(env.redisPrefix).sku("RACE-1");

    // Watch the raw counters in Redis and the public level for the whole race, each in its own loop.
    let racing = true;
    let lowestAvailable = Number.POSITIVE_INFINITY;
    let highestReserved = 0;
    let rawObservations = 0;
    const watchRaw = (async () => {
      while (racing) {
        const [onHand, reserved] = (await redis.hmget(skuKey, "on_hand", "reserved")).map(Number);
        lowestAvailable = Math.min(lowestAvailable, (onHand ?? 0) - (reserved ?? 0));
        highestReserved = Math.max(highestReserved, reserved ?? 0);
        rawObservations++;
      }
    })();
    const watchApi = (async () => {
      while (racing) lowestAvailable = Math.min(lowestAvailable, Number((await stockOf("RACE-1"))?.available));
    })();

    const outcomes = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        codeOf(service.reserve({ reservationId: `race-${i}`, lines: [{ sku: "RACE-1", quantity: 1n }] })),
      ),
    );
    racing = false;
    await Promise.all([watchRaw, watchApi]);

    expect(outcomes.filter((code) => code === "ok")).toHaveLength(100);
    expect(outcomes.filter((code) => code === Code.ResourceExhausted)).toHaveLength(900);
    const level = await stockOf("RACE-1");
    expect(level).toMatchObject({ onHand: 100n, reserved: 100n, available: 0n });
    expect(rawObservations).toBeGreaterThan(0);

    // The ledger has every state the SKU went through: one StockChanged per change, in version order.
    await inv.inventory.outboxDrained();
    const changes = await readEvents(inv.platform.js, env.namespace, StockChangedSchema, "shop.inventory.stock.RACE-1");
    expect(changes.map((e) => Number(e.level?.version))).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    for (const { level } of changes) expect(Number(level?.onHand) - Number(level?.reserved)).toBeGreaterThanOrEqual(0);
    expect(lowestAvailable).toBeGreaterThanOrEqual(0);
    expect(highestReserved).toBeLessThanOrEqual(100);
    const held = await inv.operator.listReservations({ state: ReservationState.HELD, pageSize: 1000 });
    expect(held.reservations.filter((r) => r.lines[0]?.sku === "RACE-1")).toHaveLength(100);
  });

  it("tells the caller how much was available when it refuses", async () => {
    await setOnHand("SHORT-1", 2);
    const err = await inv.operator
      .reserve({ reservationId: "short-1", lines: [{ sku: "SHORT-1", quantity: 3n }] })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((err as ConnectError).rawMessage).toMatch(/SHORT-1: 2 available, 3 requested/);
  });
});

describe("multi-SKU reservations", () => {
  it("changes no SKU when one line is short", async () => {
    await setOnHand("MULTI-A", 5);
    await setOnHand("MULTI-B", 1);
    const before = await inv.operator.getStock({ skus: ["MULTI-A", "MULTI-B"] });
    const code = await codeOf(
      inv.operator.reserve({
        reservationId: "multi-short",
        lines: [
          { sku: "MULTI-A", quantity: 2n },
          { sku: "MULTI-B", quantity: 2n },
        ],
      }),
    );
    expect(code).toBe(Code.ResourceExhausted);
    expect(await inv.operator.getStock({ skus: ["MULTI-A", "MULTI-B"] })).toEqual(before);
    expect(await codeOf(inv.operator.getReservation({ reservationId: "multi-short" }))).toBe(Code.NotFound);
  });

  it("holds every line when all are available, merging repeated SKUs", async () => {
    await setOnHand("MULTI-C", 5);
    await setOnHand("MULTI-D", 5);
    const reservation = await inv.operator.reserve({
      reservationId: "multi-ok",
      lines: [
        { sku: "MULTI-D", quantity: 1n },
        { sku: "MULTI-C", quantity: 2n },
        { sku: "MULTI-D", quantity: 2n },
      ],
      reference: "order-77",
    });
    expect(reservation.state).toBe(ReservationState.HELD);
    expect(reservation.reference).toBe("order-77");
    expect(reservation.lines.map((l) => [l.sku, l.quantity])).toEqual([
      ["MULTI-C", 2n],
      ["MULTI-D", 3n],
    ]);
    const { levels } = await inv.operator.getStock({ skus: ["MULTI-C", "MULTI-D"] });
    expect(levels.map((l) => l.available)).toEqual([3n, 2n]);
  });
});

describe("idempotency by reservation id", () => {
  it("answers a repeated Reserve with the same reservation and holds the units once", async () => {
    await setOnHand("IDEM-1", 10);
    const request = { reservationId: "idem-r", lines: [{ sku: "IDEM-1", quantity: 4n }] };
    const first = await inv.operator.reserve(request);
    const second = await inv.operator.reserve({ ...request, lines: [{ sku: "IDEM-1", quantity: 4n }] });
    expect(second).toEqual(first);
    expect(await stockOf("IDEM-1")).toMatchObject({ reserved: 4n, available: 6n });
  });

  it("refuses a Reserve that reuses an id with other lines", async () => {
    await setOnHand("IDEM-2", 10);
    await inv.operator.reserve({ reservationId: "idem-x", lines: [{ sku: "IDEM-2", quantity: 1n }] });
    const code = await codeOf(
      inv.operator.reserve({ reservationId: "idem-x", lines: [{ sku: "IDEM-2", quantity: 2n }] }),
    );
    expect(code).toBe(Code.AlreadyExists);
  });

  it("answers a repeated Commit the same and sells the units once", async () => {
    await setOnHand("IDEM-3", 10);
    await inv.operator.reserve({ reservationId: "idem-c", lines: [{ sku: "IDEM-3", quantity: 3n }] });
    const first = await inv.operator.commit({ reservationId: "idem-c" });
    const level = await stockOf("IDEM-3");
    const second = await inv.operator.commit({ reservationId: "idem-c" });
    expect(first.state).toBe(ReservationState.COMMITTED);
    expect(second).toEqual(first);
    expect(await stockOf("IDEM-3")).toEqual(level);
    expect(level).toMatchObject({ onHand: 7n, reserved: 0n, available: 7n });
  });

  it("answers a repeated Release the same and returns the units once", async () => {
    await setOnHand("IDEM-4", 10);
    await inv.operator.reserve({ reservationId: "idem-rel", lines: [{ sku: "IDEM-4", quantity: 3n }] });
    const first = await inv.operator.release({ reservationId: "idem-rel", reason: "cart abandoned" });
    const level = await stockOf("IDEM-4");
    const second = await inv.operator.release({ reservationId: "idem-rel" });
    expect(first.state).toBe(ReservationState.RELEASED);
    expect(second).toEqual(first);
    expect(await stockOf("IDEM-4")).toEqual(level);
    expect(level).toMatchObject({ onHand: 10n, reserved: 0n, available: 10n });
  });
});

describe("reservation states", () => {
  it("refuses to commit a released reservation and to release a committed one", async () => {
    await setOnHand("STATE-1", 10);
    await inv.operator.reserve({ reservationId: "st-rel", lines: [{ sku: "STATE-1", quantity: 1n }] });
    await inv.operator.release({ reservationId: "st-rel" });
    expect(await codeOf(inv.operator.commit({ reservationId: "st-rel" }))).toBe(Code.FailedPrecondition);
    await inv.operator.reserve({ reservationId: "st-com", lines: [{ sku: "STATE-1", quantity: 1n }] });
    await inv.operator.commit({ reservationId: "st-com" });
    expect(await codeOf(inv.operator.release({ reservationId: "st-com" }))).toBe(Code.FailedPrecondition);
  });

  it("says NotFound for an unknown reservation", async () => {
    expect(await codeOf(inv.operator.commit({ reservationId: "nobody" }))).toBe(Code.NotFound);
    expect(await codeOf(inv.operator.getReservation({ reservationId: "nobody" }))).toBe(Code.NotFound);
  });

  it("lists reservations by state, page by page", async () => {
    await setOnHand("LIST-1", 100);
    for (let i = 0; i < 5; i++) {
      await inv.operator.reserve({ reservationId: `list-${i}`, lines: [{ sku: "LIST-1", quantity: 1n }] });
      inv.clock.advance(1);
    }
    await inv.operator.commit({ reservationId: "list-0" });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await inv.operator.listReservations({ state: ReservationState.HELD, pageSize: 2, pageToken });
      expect(page.reservations.length).toBeLessThanOrEqual(2);
      seen.push(...page.reservations.map((r) => r.id).filter((id) => id.startsWith("list-")));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(seen).toEqual(["list-1", "list-2", "list-3", "list-4"]);
    const committed = await inv.operator.listReservations({ state: ReservationState.COMMITTED });
    expect(committed.reservations.map((r) => r.id)).toContain("list-0");
    expect(
      await codeOf(inv.operator.listReservations({ state: ReservationState.COMMITTED, pageToken: "bm9wZQ" })),
    ).toBe(Code.InvalidArgument);
  });

  it("lets only services and operators reserve", async () => {
    const customer = inv.clientAs("customer");
    expect(await codeOf(customer.reserve({ reservationId: "c-1", lines: [{ sku: "X", quantity: 1n }] }))).toBe(
      Code.PermissionDenied,
    );
    expect(await codeOf(inv.clientAs("customer").getStock({ skus: ["X"] }))).toBe("ok");
  });
});

describe("operator adjustments", () => {
  it("shifts and sets on-hand, but never below what is reserved", async () => {
    await setOnHand("ADJ-1", 10);
    await inv.operator.reserve({ reservationId: "adj-r", lines: [{ sku: "ADJ-1", quantity: 6n }] });
    const shifted = await inv.operator.adjust({
      sku: "ADJ-1",
      change: { case: "delta", value: -3n },
      reason: "broken",
    });
    expect(shifted).toMatchObject({ onHand: 7n, reserved: 6n, available: 1n });
    expect(
      await codeOf(inv.operator.adjust({ sku: "ADJ-1", change: { case: "delta", value: -2n }, reason: "lost" })),
    ).toBe(Code.FailedPrecondition);
    expect(
      await codeOf(inv.operator.adjust({ sku: "ADJ-1", change: { case: "setOnHand", value: 5n }, reason: "count" })),
    ).toBe(Code.FailedPrecondition);
    expect(await stockOf("ADJ-1")).toMatchObject({ onHand: 7n, reserved: 6n });
  });

  it("applies an adjustment with a request id once", async () => {
    await setOnHand("ADJ-2", 10);
    const request = {
      sku: "ADJ-2",
      change: { case: "delta" as const, value: 5n },
      reason: "delivery",
      requestId: "d-1",
    };
    const first = await inv.operator.adjust(request);
    const second = await inv.operator.adjust(request);
    expect(second).toEqual(first);
    expect(await stockOf("ADJ-2")).toMatchObject({ onHand: 15n });
  });

  it("accepts TTLs from the request", async () => {
    await setOnHand("TTL-REQ", 1);
    const reservation = await inv.operator.reserve({
      reservationId: "ttl-req",
      lines: [{ sku: "TTL-REQ", quantity: 1n }],
      ttl: durationFromMs(5_000),
    });
    const ms = (t?: { seconds: bigint; nanos: number }) => Number(t?.seconds ?? 0n) * 1000 + (t?.nanos ?? 0) / 1e6;
    expect(ms(reservation.expireTime) - ms(reservation.createTime)).toBe(5_000);
  });
});
