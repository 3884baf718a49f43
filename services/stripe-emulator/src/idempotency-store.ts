import type { Clock } from "./domain/clock.js";
import { stripeErrors } from "./domain/stripe-error.js";

/** How long Stripe keeps an idempotency key's result. */
export const idempotencyKeyLifetimeMs = 24 * 3_600_000;

/** An answer kept under a key, replayed byte for byte. */
export interface RecordedResponse {
  status: number;
  body: string;
  requestId: string;
}

/** What a request carrying a key does: run (it now holds the key) or answer with the recorded response. */
export type IdempotencyDecision = { kind: "execute" } | { kind: "replay"; response: RecordedResponse };

/**
 * Idempotency keys with Stripe's rules: the same key with the same method, path and parameters replays the first
 * answer for 24 hours; with anything else it is an `idempotency_error`. While the first request still runs, a second
 * one with its key gets 409 `idempotency_key_in_use`, as from Stripe (the SDK retries 409 by itself and then gets the
 * replay), so one key never executes twice.
 */
export interface IdempotencyStore {
  /** Claims `key` for a request identified by `fingerprint`, or says which answer to replay; throws the refusals. */
  begin(key: string, fingerprint: string): IdempotencyDecision;
  /** Records the answer of a request that executed. */
  complete(key: string, response: RecordedResponse): void;
  /** Frees the key of a request refused before it executed, so a corrected retry may use it. */
  release(key: string): void;
  counts(): { keys: number; replays: number; mismatches: number; inUse: number };
}

type Entry =
  | { fingerprint: string; createdAt: number; state: "running" }
  | { fingerprint: string; createdAt: number; state: "done"; response: RecordedResponse };

/**
 * How many finished keys are kept at most. The SDK puts a key on every POST, so a long benchmark would otherwise hold
 * every answer of the last 24 hours in memory; past this the oldest are forgotten early.
 */
export const maxRecordedKeys = 100_000;

/** An in-memory store; expired keys are dropped lazily and swept once a minute. */
export function createIdempotencyStore(clock: Clock, lifetimeMs = idempotencyKeyLifetimeMs): IdempotencyStore {
  const entries = new Map<string, Entry>();
  const counters = { replays: 0, mismatches: 0, inUse: 0 };
  let lastSweep = clock.now();

  const expired = (entry: Entry, now: number) => entry.state === "done" && now - entry.createdAt >= lifetimeMs;

  function sweep(now: number): void {
    if (now - lastSweep < 60_000) return;
    lastSweep = now;
    for (const [key, entry] of entries) if (expired(entry, now)) entries.delete(key);
  }

  return {
    begin(key, fingerprint) {
      if (key.length > 255) throw stripeErrors.idempotencyKeyTooLong(key.length);
      const now = clock.now();
      sweep(now);
      const entry = entries.get(key);
      if (entry !== undefined && !expired(entry, now)) {
        if (entry.fingerprint !== fingerprint) {
          counters.mismatches++;
          throw stripeErrors.idempotencyMismatch(key);
        }
        if (entry.state === "running") {
          counters.inUse++;
          throw stripeErrors.idempotencyKeyInUse(key);
        }
        counters.replays++;
        return { kind: "replay", response: entry.response };
      }
      entries.set(key, { fingerprint, createdAt: now, state: "running" });
      return { kind: "execute" };
    },
    complete(key, response) {
      const entry = entries.get(key);
      if (entry === undefined) return;
      entries.set(key, { fingerprint: entry.fingerprint, createdAt: entry.createdAt, state: "done", response });
      if (entries.size <= maxRecordedKeys) return;
      for (const [oldKey, oldEntry] of entries) {
        if (entries.size <= maxRecordedKeys) break;
        if (oldEntry.state === "done") entries.delete(oldKey);
      }
    },
    release(key) {
      if (entries.get(key)?.state === "running") entries.delete(key);
    },
    counts: () => ({ keys: entries.size, ...counters }),
  };
}
