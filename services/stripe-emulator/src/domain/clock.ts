/** Where "now" comes from, in epoch milliseconds. Injected because it drives idempotency-key expiry and timestamps. */
export interface Clock {
  now(): number;
}

/** The real time. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

/** A manual clock starting at `startMs` (default: the real now), for tests that cross the 24 h key lifetime. */
export function createManualClock(startMs = Date.now()): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Stripe's timestamps are whole seconds since the epoch. */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
