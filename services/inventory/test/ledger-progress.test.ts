import { Code } from "@connectrpc/connect";
import { toConnectError } from "@shop/platform";
import { createTestEnv, type TestEnv } from "@shop/platform/testing";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLedgerProgress, inventoryKeys } from "../src/internal.js";
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

/** The Connect code a caller would see for the wait's outcome. */
const codeOf = (wait: Promise<void>) =>
  wait.then(
    () => "ok" as const,
    (err: unknown) => toConnectError(err, "test").error.code,
  );

const pending = async (promise: Promise<unknown>) =>
  Promise.race([promise.then(() => "settled"), new Promise((resolve) => setTimeout(() => resolve("pending"), 100))]);

describe("waiting for the ledger", () => {
  it("answers once another replica's relay published and deleted every entry up to the change", async () => {
    const keys = inventoryKeys(`${env.redisPrefix}a-`);
    await redis.set(keys.ready, "epoch-1");
    const first = (await redis.xadd(keys.outbox, "*", "n", "1")) as string;
    const second = (await redis.xadd(keys.outbox, "*", "n", "2")) as string;
    const progress = createLedgerProgress({ redis, keys, pollMs: 5 });

    const waiting = progress.untilPublished({ entryId: second, epoch: "epoch-1" }, 5_000);
    await redis.xdel(keys.outbox, first);
    expect(await pending(waiting)).toBe("pending");
    await redis.xdel(keys.outbox, second);
    await expect(waiting).resolves.toBeUndefined();
    progress.close();
  });

  it("refuses a change whose entry vanished with Redis, even once the state is restored", async () => {
    const keys = inventoryKeys(`${env.redisPrefix}b-`);
    await redis.set(keys.ready, "epoch-1");
    const entry = (await redis.xadd(keys.outbox, "*", "n", "1")) as string;
    const progress = createLedgerProgress({ redis, keys, pollMs: 5 });

    const waiting = codeOf(progress.untilPublished({ entryId: entry, epoch: "epoch-1" }, 5_000));
    // Redis lost the outbox; a rebuild restored the state under a new ready marker.
    await redis.del(keys.outbox);
    await redis.set(keys.ready, "epoch-2");
    expect(await waiting).toBe(Code.Unavailable);
    progress.close();
  });

  it("gives up with Unavailable when nothing publishes in time", async () => {
    const keys = inventoryKeys(`${env.redisPrefix}c-`);
    await redis.set(keys.ready, "epoch-1");
    const entry = (await redis.xadd(keys.outbox, "*", "n", "1")) as string;
    const progress = createLedgerProgress({ redis, keys, pollMs: 5 });
    const started = performance.now();
    expect(await codeOf(progress.untilPublished({ entryId: entry, epoch: "epoch-1" }, 200))).toBe(Code.Unavailable);
    expect(performance.now() - started).toBeLessThan(1_000);
    progress.close();
  });
});
