import { createLogger } from "@shop/platform";
import { createTestEnv, type TestEnv } from "@shop/platform/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisOutboxSource, inventoryKeys } from "../src/internal.js";
import { observer } from "./support/inventory-harness.js";

let env: TestEnv;
let redis: Redis;

beforeAll(async () => {
  env = await createTestEnv();
  redis = observer(env.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await env?.cleanup();
});

const logger = createLogger("outbox-test", "silent");

describe("the Redis outbox", () => {
  it("hands entries to one relay at a time, oldest first, until it publishes or gives up the lease", async () => {
    const keys = inventoryKeys(env.redisPrefix);
    const toEvent = (entry: { id: string; fields: Record<string, string> }) => ({
      subject: "s",
      typeName: "t",
      eventId: entry.id,
      aggregateId: entry.fields.n ?? "",
      aggregateVersion: 1n,
      data: new Uint8Array(),
    });
    const first = createRedisOutboxSource({ redis, keys, logger, toEvent });
    const second = createRedisOutboxSource({ redis, keys, logger, toEvent });
    expect(await first.backlog()).toEqual({ events: 0, oldestAgeSeconds: 0 });
    for (const n of ["1", "2", "3"]) await redis.xadd(keys.outbox, "*", "n", n);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const waiting = await first.backlog();
    expect(waiting.events).toBe(3);
    expect(waiting.oldestAgeSeconds).toBeGreaterThanOrEqual(0.02);

    const batch = await first.claim(2);
    expect(batch?.events.map((e) => e.aggregateId)).toEqual(["1", "2"]);
    expect(await second.claim(10)).toBeUndefined();
    await batch?.abandon();
    const retried = await first.claim(10);
    expect(retried?.events.map((e) => e.aggregateId)).toEqual(["1", "2", "3"]);
    await retried?.markPublished();
    // Published but not yet deleted (the next claim does that): no longer backlog.
    expect(await redis.xlen(keys.outbox)).toBe(3);
    expect(await first.backlog()).toEqual({ events: 0, oldestAgeSeconds: 0 });
    // Published entries go with the relay's next claim, in the same script, which then finds nothing new.
    expect(await first.claim(10)).toBeUndefined();
    expect(await redis.xlen(keys.outbox)).toBe(0);

    // What a relay published last is deleted when it closes, not left for another relay to publish again.
    await redis.xadd(keys.outbox, "*", "n", "3b");
    await (await first.claim(10))?.markPublished();
    expect(await redis.xlen(keys.outbox)).toBe(1);

    await first.close();
    await redis.xadd(keys.outbox, "*", "n", "4");
    expect((await second.claim(10))?.events.map((e) => e.aggregateId)).toEqual(["4"]);
    await second.close();
  });
});
