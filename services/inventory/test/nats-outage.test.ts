import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { createTestEnv, type OwnServer, startOwnNats, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryHarness, observer, startInventoryHarness } from "./support/inventory-harness.js";
import { readEvents } from "./support/ledger-events.js";

let env: TestEnv;
let nats: OwnServer;
let inv: InventoryHarness;

beforeAll(async () => {
  env = await createTestEnv();
  nats = await startOwnNats();
  inv = await startInventoryHarness(env, { env: { SHOP_NATS_URL: nats.url } });
});

afterAll(async () => {
  await inv?.stop();
  await nats?.dispose();
  await env?.cleanup();
});

describe("publishing while NATS is down", () => {
  it("keeps serving, holds the events in the outbox and publishes all of them once NATS is back", async () => {
    await inv.operator.adjust({ sku: "OUT-1", change: { case: "setOnHand", value: 10n }, reason: "setup" });
    await inv.inventory.outboxDrained();

    await nats.kill();
    await inv.operator.reserve({ reservationId: "out-1", lines: [{ sku: "OUT-1", quantity: 2n }] });
    await inv.operator.commit({ reservationId: "out-1" });
    await inv.operator.adjust({ sku: "OUT-1", change: { case: "delta", value: 5n }, reason: "delivery" });
    const redis = observer(env.redisUrl);
    expect(await redis.xlen(`${env.redisPrefix}{inventory}:outbox`)).toBeGreaterThan(0);
    redis.disconnect();

    await nats.start();
    await inv.inventory.outboxDrained(60_000);
    const changes = await readEvents(inv.platform.js, env.namespace, StockChangedSchema, "shop.inventory.stock.OUT-1");
    expect(changes.map((e) => e.level?.version)).toEqual([1n, 2n, 3n, 4n]);
    expect(changes.at(-1)?.level).toMatchObject({ onHand: 13n, reserved: 0n, available: 13n });
  }, 90_000);
});
