import { Code, ConnectError } from "@connectrpc/connect";
import { ReservationChangedSchema, StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { codeOf, createTestEnv, type OwnServer, startOwnNats, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryHarness, observer, startInventoryHarness } from "./support/inventory-harness.js";
import { readEvents } from "./support/ledger-events.js";

let env: TestEnv;
let nats: OwnServer;
let inv: InventoryHarness;
const ledgerTimeoutMs = 1_000;

beforeAll(async () => {
  env = await createTestEnv();
  nats = await startOwnNats();
  inv = await startInventoryHarness(env, {
    env: { SHOP_NATS_URL: nats.url, SHOP_INVENTORY_LEDGER_TIMEOUT_MS: String(ledgerTimeoutMs) },
  });
});

afterAll(async () => {
  await inv?.stop();
  await nats?.dispose();
  await env?.cleanup();
});

/** The code of a call and how long it took to come back. */
async function timed(call: Promise<unknown>): Promise<{ code: Code | "ok"; ms: number }> {
  const started = performance.now();
  const code = await codeOf(call);
  return { code, ms: performance.now() - started };
}

/** Repeats an idempotent call until it is acknowledged (the relay may still be backing off after the outage). */
async function untilAcknowledged<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Unavailable || Date.now() > deadline) throw err;
    }
  }
}

describe("acknowledging while NATS is down", () => {
  it("answers Unavailable instead of OK, keeps the changes in the outbox and records each in the ledger once NATS is back", async () => {
    await inv.operator.adjust({
      sku: "OUT-1",
      change: { case: "setOnHand", value: 10n },
      reason: "setup",
      requestId: "out-setup",
    });

    await nats.kill();
    const reserve = () => inv.operator.reserve({ reservationId: "out-1", lines: [{ sku: "OUT-1", quantity: 2n }] });
    const commit = () => inv.operator.commit({ reservationId: "out-1" });
    const adjust = () =>
      inv.operator.adjust({
        sku: "OUT-1",
        change: { case: "delta", value: 5n },
        reason: "delivery",
        requestId: "out-d",
      });
    for (const call of [reserve, commit, adjust]) {
      const { code, ms } = await timed(call());
      expect(code).toBe(Code.Unavailable);
      expect(ms).toBeLessThan(ledgerTimeoutMs + 2_000);
    }
    // Redis made the changes; their events wait in the outbox.
    const redis = observer(env.redisUrl);
    expect(await redis.xlen(`${env.redisPrefix}{inventory}:outbox`)).toBeGreaterThan(0);
    redis.disconnect();

    await nats.start();
    // Retries with the same ids change nothing more and answer once the ledger has the changes.
    expect((await untilAcknowledged(reserve)).state).toBe(ReservationState.COMMITTED);
    expect((await untilAcknowledged(commit)).state).toBe(ReservationState.COMMITTED);
    expect(await untilAcknowledged(adjust)).toMatchObject({ onHand: 13n, reserved: 0n, version: 4n });

    const changes = await readEvents(inv.platform.js, env.namespace, StockChangedSchema, "shop.inventory.stock.OUT-1");
    expect(changes.map((e) => e.level?.version)).toEqual([1n, 2n, 3n, 4n]);
    expect(changes.at(-1)?.level).toMatchObject({ onHand: 13n, reserved: 0n, available: 13n });
    const states = await readEvents(
      inv.platform.js,
      env.namespace,
      ReservationChangedSchema,
      "shop.inventory.reservation.out-1",
    );
    expect(states.map((e) => e.reservation?.state)).toEqual([ReservationState.HELD, ReservationState.COMMITTED]);
  }, 90_000);
});
