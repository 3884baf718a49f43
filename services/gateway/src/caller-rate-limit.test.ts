// Budgets taken from Redis a lease at a time: two replicas of a busy caller never let more through than the budget,
// and leave little of it unspent.
import { createTestEnv, type TestEnv } from "@shop/platform/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallerRateLimit, createCallerRateLimit } from "./caller-rate-limit.js";

let env: TestEnv;
let redis: Redis;

beforeAll(async () => {
  env = await createTestEnv();
  redis = new Redis(env.serviceEnv.SHOP_REDIS_URL ?? "", { enableAutoPipelining: true });
  await redis.ping(); // until Redis is ready, each replica counts in memory alone
});

afterAll(async () => {
  redis.disconnect();
  await env.cleanup();
});

/** Replicas counting against one budget of `budget` calls per address in a window longer than the test. */
function replicas(count: number, budget: number): CallerRateLimit[] {
  return Array.from({ length: count }, () =>
    createCallerRateLimit({
      redis,
      keyPrefix: env.serviceEnv.SHOP_REDIS_PREFIX ?? "",
      perCredential: 0,
      anonymousPerAddress: budget,
      windowSeconds: 600,
    }),
  );
}

/** Calls of one address, `concurrency` at a time on each replica, until every replica refuses; counts the passed. */
async function callUntilRefused(limits: CallerRateLimit[], address: string, concurrency: number): Promise<number> {
  let passed = 0;
  const refusedBy = new Set<CallerRateLimit>();
  while (refusedBy.size < limits.length) {
    const batch = limits.flatMap((limit) =>
      Array.from({ length: concurrency }, async () => {
        const waitMs = await limit.take({ subject: "", address });
        if (waitMs === undefined) passed++;
        else refusedBy.add(limit);
      }),
    );
    await Promise.all(batch);
  }
  return passed;
}

describe("caller rate limit", () => {
  it("lets exactly the budget through one replica, however the calls overlap", async () => {
    const [replica] = replicas(1, 3_000);
    expect(await callUntilRefused([replica as CallerRateLimit], "10.0.0.1", 8)).toBe(3_000);
  });

  it("never lets more than the budget through two replicas, and leaves at most a few leases unspent", async () => {
    const budget = 3_000;
    const passed = await callUntilRefused(replicas(2, budget), "10.0.0.2", 8);
    expect(passed).toBeLessThanOrEqual(budget);
    // What one replica holds leased when the other runs out: at most 1/32 of what was left per lease.
    expect(passed).toBeGreaterThan(budget * 0.9);
  });

  it("says how long to wait once the budget is spent", async () => {
    const [first, second] = replicas(2, 40);
    await callUntilRefused([first, second] as CallerRateLimit[], "10.0.0.3", 4);
    expect(await first?.take({ subject: "", address: "10.0.0.3" })).toBeGreaterThan(0);
    expect(await second?.take({ subject: "", address: "10.0.0.3" })).toBeGreaterThan(0);
  });
});
