// SHOP_NAMESPACE alone keeps two deployments apart on one Redis, as it does on NATS: without SHOP_REDIS_PREFIX, each
// inventory's keys are prefixed by its namespace.
import { createTestEnv, type OwnServer, startOwnRedis, type TestEnv } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryHarness, observer, startInventoryHarness } from "./support/inventory-harness.js";

let redis: OwnServer;
const envs: TestEnv[] = [];
const deployments: InventoryHarness[] = [];

beforeAll(async () => {
  // A Redis of its own: on a build where the namespace did not isolate, the two would write unprefixed shared keys.
  redis = await startOwnRedis();
  envs.push(await createTestEnv(), await createTestEnv());
  for (const env of envs) {
    deployments.push(
      await startInventoryHarness(env, { env: { SHOP_REDIS_URL: redis.url, SHOP_REDIS_PREFIX: undefined } }),
    );
  }
});

afterAll(async () => {
  for (const deployment of deployments) await deployment.stop();
  for (const env of envs) await env.cleanup();
  await redis?.dispose();
});

const levelIn = async (deployment: InventoryHarness, sku: string) =>
  (await deployment.operator.getStock({ skus: [sku] })).levels[0];

describe("two deployments with different namespaces on one Redis, no SHOP_REDIS_PREFIX", () => {
  it("do not see each other's stock", async () => {
    const [first, second] = deployments as [InventoryHarness, InventoryHarness];
    await first.operator.adjust({ sku: "SHARED-1", change: { case: "setOnHand", value: 5n }, reason: "count" });
    await second.operator.adjust({ sku: "SHARED-1", change: { case: "setOnHand", value: 2n }, reason: "count" });
    await first.operator.reserve({ reservationId: "shared-r1", lines: [{ sku: "SHARED-1", quantity: 1n }] });
    expect(await levelIn(first, "SHARED-1")).toMatchObject({ onHand: 5n, reserved: 1n, version: 2n });
    expect(await levelIn(second, "SHARED-1")).toMatchObject({ onHand: 2n, reserved: 0n, version: 1n });
  });

  it("keep every key under their namespace", async () => {
    const client = observer(redis.url);
    try {
      const keys = await client.keys("*");
      expect(keys.length).toBeGreaterThan(0);
      const outside = keys.filter((key) => !envs.some((env) => key.startsWith(`${env.namespace}:{inventory}:`)));
      expect(outside).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
