import type { Redis } from "ioredis";
import { refusals } from "../domain/refusals.js";
import type { InventoryKeys } from "./inventory-keys.js";

/**
 * What a change must wait for before it is acknowledged: the newest outbox entry when its script ran ("0-0" for an
 * empty outbox) and the ready marker's value then. The marker changes when Redis loses its data and a rebuild restores
 * it, so an entry that vanished with Redis is never mistaken for one the relay published.
 */
export interface LedgerMark {
  entryId: string;
  epoch: string;
}

export interface LedgerProgress {
  /** Resolves once the relay published every outbox entry up to the mark; Unavailable after `timeoutMs`. */
  untilPublished(mark: LedgerMark, timeoutMs: number): Promise<void>;
  /** The local relay published (and deleted) every entry up to `lastId`; `epoch` is the ready marker after that. */
  published(lastId: string, epoch: string): void;
  /** Fails whatever still waits (shutdown). */
  close(): void;
}

export interface LedgerProgressOptions {
  redis: Redis;
  keys: InventoryKeys;
  /**
   * How often, while changes wait, the outbox's oldest entry is read: the relay of another replica may hold the
   * lease, and only Redis tells what it published. Default 20 ms.
   */
  pollMs?: number;
}

/** Orders Redis stream ids ("<ms>-<seq>"); negative when `a` is older. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = "0", aSeq = "0"] = a.split("-");
  const [bMs = "0", bSeq = "0"] = b.split("-");
  return Number(aMs) - Number(bMs) || Number(aSeq) - Number(bSeq);
}

interface Waiter {
  mark: LedgerMark;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Tells a handler when its change reached the JetStream ledger. The relay alone publishes, in outbox order, and
 * deletes what JetStream stored; so an entry is in the ledger once the relay reported a later one published, or once
 * the outbox's oldest entry is newer than it — provided the ready marker is unchanged, i.e. Redis did not lose the
 * outbox in between.
 */
export function createLedgerProgress(options: LedgerProgressOptions): LedgerProgress {
  const { redis, keys } = options;
  const pollMs = options.pollMs ?? 20;
  const waiters = new Set<Waiter>();
  let publishedThrough = { id: "0-0", epoch: "" };
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  // `asked`: waiters whose scripts ran before `epoch` was read, so another marker means Redis lost their entries.
  const settle = (epoch: string, isPublished: (entryId: string) => boolean, asked?: Waiter[]) => {
    for (const waiter of asked ?? [...waiters]) {
      if (!waiters.has(waiter)) continue;
      if (waiter.mark.epoch !== epoch) {
        if (!asked) continue;
        waiters.delete(waiter);
        waiter.reject(refusals.ledgerLost());
      } else if (isPublished(waiter.mark.entryId)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const poll = async () => {
    timer = undefined;
    if (waiters.size === 0 || polling) return;
    polling = true;
    const asked = [...waiters];
    try {
      // The outbox first, then the marker: an unchanged marker afterwards proves the outbox read was the same one.
      const results = await redis.pipeline().xrange(keys.outbox, "-", "+", "COUNT", 1).get(keys.ready).exec();
      const oldest = (results?.[0]?.[1] as Array<[string, string[]]> | undefined)?.[0]?.[0];
      const epoch = (results?.[1]?.[1] as string | null) ?? "";
      if (!results?.[0]?.[0] && !results?.[1]?.[0]) {
        settle(epoch, (id) => oldest === undefined || compareStreamIds(id, oldest) < 0, asked);
      }
    } catch {
      // Redis out of reach: the waiters time out unless it answers again in time.
    } finally {
      polling = false;
      if (waiters.size > 0) timer ??= setTimeout(poll, pollMs);
    }
  };

  return {
    untilPublished(mark, timeoutMs) {
      if (mark.entryId === "0-0") return Promise.resolve();
      if (mark.epoch === publishedThrough.epoch && compareStreamIds(mark.entryId, publishedThrough.id) <= 0) {
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => {
          waiters.delete(waiter);
          reject(refusals.ledgerUnconfirmed(timeoutMs));
        }, timeoutMs);
        const waiter: Waiter = {
          mark,
          resolve: () => {
            clearTimeout(deadline);
            resolve();
          },
          reject: (err) => {
            clearTimeout(deadline);
            reject(err);
          },
        };
        waiters.add(waiter);
        timer ??= setTimeout(poll, pollMs);
      });
    },

    published(lastId, epoch) {
      if (epoch !== publishedThrough.epoch || compareStreamIds(lastId, publishedThrough.id) > 0) {
        publishedThrough = { id: lastId, epoch };
      }
      settle(epoch, (id) => compareStreamIds(id, lastId) <= 0);
    },

    close() {
      clearTimeout(timer);
      for (const waiter of waiters) waiter.reject(refusals.ledgerNotAwaited());
      waiters.clear();
    },
  };
}
