import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { codeOf, createTestEnv, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../src/internal.js";
import { type InventoryHarness, startInventoryHarness } from "./support/inventory-harness.js";

let env: TestEnv;
let inv: InventoryHarness;
const clock = createManualClock(Date.UTC(2030, 0, 1));

beforeAll(async () => {
  env = await createTestEnv();
  inv = await startInventoryHarness(env, { clock });
});

afterAll(async () => {
  await inv?.stop();
  await env?.cleanup();
});

const available = async (sku: string) => (await inv.operator.getStock({ skus: [sku] })).levels[0]?.available;

async function stocked(sku: string, units: number) {
  await inv.operator.adjust({ sku, change: { case: "setOnHand", value: BigInt(units) }, reason: "test setup" });
}

const hold = (id: string, sku: string, ttlMs: number) =>
  inv.operator.reserve({ reservationId: id, lines: [{ sku, quantity: 2n }], ttl: durationFromMs(ttlMs) });

describe("holds expire", () => {
  it("returns the stock of a hold once its TTL passed", async () => {
    await stocked("EXP-1", 5);
    await hold("exp-1", "EXP-1", 30_000);
    clock.advance(29_999);
    await inv.inventory.sweeper.sweepNow();
    expect(await available("EXP-1")).toBe(3n);
    clock.advance(1);
    expect((await inv.inventory.sweeper.sweepNow()).expired).toBe(1);
    expect(await available("EXP-1")).toBe(5n);
    expect((await inv.operator.getReservation({ reservationId: "exp-1" })).state).toBe(ReservationState.EXPIRED);
  });

  it("refuses to commit an expired hold even before the sweeper saw it, and returns its stock then", async () => {
    await stocked("EXP-2", 5);
    await hold("exp-2", "EXP-2", 10_000);
    clock.advance(10_000);
    const err = ConnectError.from(await inv.operator.commit({ reservationId: "exp-2" }).catch((e: unknown) => e));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toMatch(/expired/);
    expect(await available("EXP-2")).toBe(5n);
    // Releasing what already expired is not an error: the units are back either way.
    expect((await inv.operator.release({ reservationId: "exp-2" })).state).toBe(ReservationState.EXPIRED);
  });

  it("expires holds made before a restart", async () => {
    await stocked("EXP-3", 5);
    await hold("exp-3", "EXP-3", 60_000);
    await inv.restart();
    clock.advance(60_000);
    await inv.inventory.sweeper.sweepNow();
    expect(await available("EXP-3")).toBe(5n);
    expect(await codeOf(inv.operator.commit({ reservationId: "exp-3" }))).toBe(Code.FailedPrecondition);
  });

  it("leaves committed and released reservations alone when their old TTL passes", async () => {
    await stocked("EXP-4", 10);
    await hold("exp-4a", "EXP-4", 5_000);
    await hold("exp-4b", "EXP-4", 5_000);
    await inv.operator.commit({ reservationId: "exp-4a" });
    await inv.operator.release({ reservationId: "exp-4b" });
    clock.advance(5_000);
    await inv.inventory.sweeper.sweepNow();
    expect((await inv.operator.getStock({ skus: ["EXP-4"] })).levels[0]).toMatchObject({ onHand: 8n, reserved: 0n });
    expect((await inv.operator.getReservation({ reservationId: "exp-4a" })).state).toBe(ReservationState.COMMITTED);
  });

  it("forgets finished reservations after the retention period", async () => {
    await stocked("EXP-5", 10);
    await hold("exp-5", "EXP-5", 5_000);
    await inv.operator.commit({ reservationId: "exp-5" });
    clock.advance(168 * 3_600_000);
    await inv.inventory.sweeper.sweepNow();
    expect(await codeOf(inv.operator.getReservation({ reservationId: "exp-5" }))).toBe(Code.NotFound);
    const committed = await inv.operator.listReservations({ state: ReservationState.COMMITTED });
    expect(committed.reservations.map((r) => r.id)).not.toContain("exp-5");
  });
});

describe("the background sweeper", () => {
  it("returns expired stock by itself", async () => {
    const fast = await startInventoryHarness(env, { clock, env: { SHOP_INVENTORY_SWEEP_INTERVAL_MS: "20" } });
    try {
      await stocked("EXP-BG", 4);
      await fast.operator.reserve({
        reservationId: "exp-bg",
        lines: [{ sku: "EXP-BG", quantity: 4n }],
        ttl: durationFromMs(1_000),
      });
      clock.advance(1_000);
      // No sweep is called here: the running sweeper must notice the due hold on its own.
      for (let i = 0; i < 500 && (await available("EXP-BG")) !== 4n; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await available("EXP-BG")).toBe(4n);
    } finally {
      await fast.stop();
    }
  });
});
