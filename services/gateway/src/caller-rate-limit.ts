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

/**
 * Per-credential and per-address budgets on Redis (rate-limiter-flexible), so several gateway replicas share one
 * count. When Redis is unreachable each replica falls back to the same budget in memory rather than refusing
 * everyone or letting everyone through.
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
  return {
    async take(caller) {
      const [budget, key] = caller.subject ? [perCredential, caller.subject] : [perAddress, caller.address];
      if (budget === undefined) return undefined;
      try {
        await budget.consume(key, 1);
        return undefined;
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes) return refusal.msBeforeNext;
        throw refusal;
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
