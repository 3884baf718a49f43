import { randomUUID } from "node:crypto";
import type { EncodedEvent, Logger, OutboxBacklog, OutboxBatch, OutboxSource } from "@shop/platform";
import type { Redis } from "ioredis";
import type { InventoryKeys } from "./inventory-keys.js";
import { defineInventoryScripts } from "./inventory-scripts.js";

/** One entry of the outbox stream, as the scripts wrote it. */
export interface OutboxEntry {
  id: string;
  fields: Record<string, string>;
}

export interface RedisOutboxSource extends OutboxSource {
  /** Entries not yet published (this relay's published ones awaiting deletion left out), and the oldest one's age. */
  backlog(): Promise<OutboxBacklog>;
  /** Gives up the relay lease and closes the blocking connection. */
  close(): Promise<void>;
}

export interface RedisOutboxSourceOptions {
  redis: Redis;
  keys: InventoryKeys;
  /** Turns an entry into the event to publish (the scripts cannot encode protobuf, so this happens here). */
  toEvent: (entry: OutboxEntry) => EncodedEvent;
  logger: Logger;
  /**
   * How long a relay keeps the lease without renewing it; another replica takes over after that. Every claim renews it
   * (the relay claims at least once per poll interval) and so does a timer while a batch is being published, so keep it
   * a few times the relay's poll interval, and below the time callers wait for the ledger: a replica that died holding
   * the lease stalls every change for up to this long. Default 3 s.
   */
  leaseMs?: number;
  /**
   * Called once JetStream stored a batch, with its last entry id and the ready marker's value when the batch was
   * claimed (read in the same script); waiting handlers learn from it that their change is in the ledger.
   * Default: nothing.
   */
  onPublished?: (lastId: string, epoch: string) => void;
}

type StreamEntries = Array<[string, string[]]>;

function entryOf([id, flat]: [string, string[]]): OutboxEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return { id, fields };
}

/**
 * The outbox is a Redis stream the Lua scripts append to in the same step as the state change. One relay at a time
 * (a lease) claims the oldest entries in order, and deletes them once JetStream acknowledged them; while NATS is
 * down they simply stay in the stream.
 */
export function createRedisOutboxSource(options: RedisOutboxSourceOptions): RedisOutboxSource {
  const { redis, keys, logger } = options;
  const leaseMs = options.leaseMs ?? 3_000;
  const token = randomUUID();
  const run = defineInventoryScripts(redis);
  // XREAD BLOCK occupies a connection, so waiting for work gets its own.
  const blocking = redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 1 });
  blocking.on("error", (err) => logger.debug({ err }, "outbox: waiting connection error"));
  let lastSeenId = "0-0";
  let lockedOut = false;
  // Published entries not deleted yet: the next claim deletes them in the same script. Left behind by a crash, they
  // are published again and JetStream drops the copies by event id.
  let published: string[] = [];

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });

  return {
    async claim(limit): Promise<OutboxBatch | undefined> {
      const deleting = published;
      published = [];
      let claimed: [StreamEntries, string] | null | undefined;
      try {
        claimed = (await run(
          "outboxClaim",
          [keys.outboxLease, keys.outbox, keys.ready],
          [token, leaseMs, limit, ...deleting],
        )) as [StreamEntries, string] | null;
      } finally {
        // The script failed, or another relay holds the lease: nothing was deleted, so the ids wait for our next claim.
        if (claimed == null) published = [...deleting, ...published];
      }
      lockedOut = claimed === null;
      if (claimed === null || claimed[0].length === 0) return undefined;
      const [entries, epoch] = claimed;
      const ids: string[] = [];
      const events: EncodedEvent[] = [];
      const unreadable: OutboxEntry[] = [];
      for (const raw of entries) {
        const entry = entryOf(raw);
        ids.push(entry.id);
        try {
          events.push(options.toEvent(entry));
        } catch (err) {
          unreadable.push(entry);
          logger.error({ err, entry }, "outbox: unreadable entry moved to the outbox dead stream");
        }
      }
      lastSeenId = ids.at(-1) ?? lastSeenId;
      // A slow publish (a NATS node failing over) must not outlast the lease, or a second relay would claim the same
      // entries while this one still sends them.
      const renewal = setInterval(
        () => void run("outboxRenew", [keys.outboxLease], [token, leaseMs]).catch(() => undefined),
        Math.max(1, Math.floor(leaseMs / 3)),
      );
      renewal.unref();
      return {
        events,
        async markPublished() {
          clearInterval(renewal);
          // JetStream holds the batch now: its waiters hear so at once, and the next claim deletes the entries.
          const lastId = ids.at(-1);
          if (lastId) options.onPublished?.(lastId, epoch);
          if (unreadable.length === 0) {
            published.push(...ids);
            return;
          }
          const pipeline = redis.pipeline();
          for (const entry of unreadable)
            pipeline.xadd(`${keys.outbox}:dead`, "*", ...Object.entries(entry.fields).flat());
          pipeline.xdel(keys.outbox, ...ids);
          await pipeline.exec();
        },
        // Entries stay in the stream and the lease stays ours, so the retry publishes them in the same order.
        async abandon() {
          clearInterval(renewal);
        },
      };
    },

    async waitForWork(timeoutMs, signal) {
      if (signal.aborted) return;
      if (lockedOut) return sleep(timeoutMs, signal);
      if (blocking.status === "wait") await blocking.connect();
      const onAbort = () => blocking.disconnect();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await blocking.xread("COUNT", 1, "BLOCK", Math.max(1, timeoutMs), "STREAMS", keys.outbox, lastSeenId);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },

    async backlog() {
      // This relay's published entries wait for its next claim to delete them; they are not backlog.
      const done = new Set(published);
      const [length, oldest] = (await redis
        .multi()
        .xlen(keys.outbox)
        .xrange(keys.outbox, "-", "+", "COUNT", done.size + 1)
        .exec()
        .then((replies) =>
          replies?.map(([err, value]) => {
            if (err) throw err;
            return value;
          }),
        )) as [number, StreamEntries];
      const first = oldest.find(([id]) => !done.has(id));
      // A stream entry's id starts with the milliseconds of the moment Redis appended it.
      const appendedMs = first ? Number(first[0].split("-", 1)[0]) : undefined;
      return {
        events: Math.max(0, length - done.size),
        oldestAgeSeconds: appendedMs === undefined ? 0 : Math.max(0, (Date.now() - appendedMs) / 1000),
      };
    },

    async close() {
      blocking.disconnect();
      if (published.length > 0) await redis.xdel(keys.outbox, ...published).catch(() => undefined);
      published = [];
      await run("outboxRelease", [keys.outboxLease], [token]).catch(() => undefined);
    },
  };
}
