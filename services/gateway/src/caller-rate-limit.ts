import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

export interface CallerRateLimitOptions {
  /** Shared by every gateway replica, so they count one budget together. */
  redis: Redis;
  /** Redis key prefix of this deployment's counters. */
  keyPrefix: string;
  /** Calls per window allowed to one API key or token subject; 0 turns the limit off. */
  perCredential: number;
  /** Calls per window allowed to one client address calling without credentials; 0 turns the limit off. */
  anonymousPerAddress: number;
  /** Length of the counting window in seconds. */
  windowSeconds: number;
}

/** Who a call counts against: the credential's subject when it has one, else the client's address. */
export interface Caller {
  subject: string;
  address: string;
}

export interface CallerRateLimit {
  /** Counts one call; resolves to the milliseconds to wait when the caller is over its budget, else undefined. */
  take(caller: Caller): Promise<number | undefined>;
  /** The limits in force, for logs and benchmark reports. */
  describe(): string;
}

/** Points a replica takes from a shared budget at once, at most: one Redis call per this many calls of a caller. */
const maxLeasePoints = 32;
/** A lease is at most this share of what is left, so points it holds unused refuse others only a little early. */
const leaseShare = 1 / 32;

/** Points of one caller's budget this replica took from Redis and has not spent yet, valid until the window ends. */
interface Lease {
  points: number;
  endsAt: number;
  /** Points left in the shared budget after the last take: how large the next lease may be. */
  remaining: number;
}

/**
 * Per-credential and per-address budgets on Redis (rate-limiter-flexible), so several gateway replicas share one
 * count. A busy caller's points are taken a few at a time (a lease of at most 1/32 of what is left, so exact as the
 * budget runs out), which spares most calls a Redis round trip. When Redis is unreachable each replica falls back to
 * the same budget in memory rather than refusing everyone or letting everyone through.
 */
export function createCallerRateLimit(options: CallerRateLimitOptions): CallerRateLimit {
  const limiter = (name: string, points: number) =>
    points <= 0
      ? undefined
      : new RateLimiterRedis({
          storeClient: options.redis,
          keyPrefix: `${options.keyPrefix}ratelimit:${name}`,
          points,
          duration: options.windowSeconds,
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory({ points, duration: options.windowSeconds }),
        });
  const perCredential = limiter("credential", options.perCredential);
  const perAddress = limiter("address", options.anonymousPerAddress);
  const leases = new Map<string, Lease>();
  // A caller's lease being taken: its other calls wait for it rather than each asking Redis.
  const taking = new Map<string, Promise<unknown>>();

  const forgetEnded = (now: number) => {
    for (const [key, lease] of leases) if (lease.endsAt <= now) leases.delete(key);
  };

  /** Takes `points` from the shared budget, one for this call and the rest leased; else the ms until it refills. */
  const takeShared = async (
    budget: RateLimiterRedis,
    key: string,
    leaseKey: string,
    points: number,
  ): Promise<number | undefined> => {
    try {
      const taken = await budget.consume(key, points);
      const now = Date.now();
      const lease = leases.get(leaseKey);
      if (lease !== undefined && lease.endsAt > now && !taken.isFirstInDuration) {
        lease.points += points - 1;
        lease.remaining = Math.min(lease.remaining, taken.remainingPoints);
      } else {
        if (leases.size >= 10_000) forgetEnded(now);
        leases.set(leaseKey, {
          points: points - 1,
          endsAt: now + taken.msBeforeNext,
          remaining: taken.remainingPoints,
        });
      }
      return undefined;
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      // A lease larger than what was left is given back, and the call asks for its one point alone.
      if (points > 1 && refusal.consumedPoints - points < budget.points) {
        await budget.reward(key, points);
        return takeShared(budget, key, leaseKey, 1);
      }
      leases.delete(leaseKey);
      return refusal.msBeforeNext;
    }
  };

  const spend = (leaseKey: string): boolean => {
    const lease = leases.get(leaseKey);
    if (lease === undefined || lease.points <= 0 || lease.endsAt <= Date.now()) return false;
    lease.points--;
    return true;
  };

  return {
    async take(caller) {
      const [budget, key, kind] = caller.subject
        ? [perCredential, caller.subject, "credential"]
        : [perAddress, caller.address, "address"];
      if (budget === undefined) return undefined;
      const leaseKey = `${kind}:${key}`;
      if (spend(leaseKey)) return undefined;
      const inFlight = taking.get(leaseKey);
      if (inFlight !== undefined) {
        await inFlight.catch(() => undefined);
        if (spend(leaseKey)) return undefined;
      }
      const lease = leases.get(leaseKey);
      const points =
        lease === undefined || lease.endsAt <= Date.now()
          ? 1
          : Math.max(1, Math.min(maxLeasePoints, Math.floor(lease.remaining * leaseShare)));
      const request = takeShared(budget, key, leaseKey, points);
      taking.set(leaseKey, request);
      try {
        return await request;
      } finally {
        if (taking.get(leaseKey) === request) taking.delete(leaseKey);
      }
    },
    describe: () => {
      const per = `per ${options.windowSeconds} s`;
      const credential = options.perCredential ? `${options.perCredential} calls ${per}` : "unlimited";
      const anonymous = options.anonymousPerAddress ? `${options.anonymousPerAddress} calls ${per}` : "unlimited";
      return `${credential} per credential, ${anonymous} per address without credentials`;
    },
  };
}
