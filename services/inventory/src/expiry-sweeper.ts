import type { Logger } from "@shop/platform";
import type { StockStore } from "./store/stock-store.js";

export interface ExpirySweeper {
  /** Sweeps now (tests move an injected clock, then call this instead of waiting). */
  sweepNow(): Promise<{ expired: number; purged: number }>;
  stop(): Promise<void>;
}

/**
 * Returns the stock of holds whose TTL passed. Driven by the expiry sorted set in Redis, not by timers per hold, so
 * holds made before a restart (or by another replica) expire all the same; replicas may sweep at once safely because
 * each sweep is one script.
 */
export function startExpirySweeper(options: { store: StockStore; intervalMs: number; logger: Logger }): ExpirySweeper {
  const { store, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let current: Promise<{ expired: number; purged: number }> = Promise.resolve({ expired: 0, purged: 0 });
  let failing = false;

  const sweepAll = async () => {
    const total = { expired: 0, purged: 0 };
    for (;;) {
      const result = await store.sweep();
      total.expired += result.expired;
      total.purged += result.purged;
      if (!result.more || stopped) return total;
    }
  };

  // Sweeps run one after another, never overlapping within a process.
  const sweepNow = () => {
    current = current.catch(() => undefined).then(sweepAll);
    return current;
  };

  const tick = async () => {
    try {
      const { expired, purged } = await sweepNow();
      if (expired > 0 || purged > 0) logger.info({ expired, purged }, "expired holds returned to stock");
      if (failing) logger.info("expiry sweeper recovered");
      failing = false;
    } catch (err) {
      // Logged once per outage, not every interval.
      if (!failing) logger.warn({ err }, "expiry sweep failed; will keep trying");
      failing = true;
    }
    if (!stopped) timer = setTimeout(tick, options.intervalMs);
  };
  timer = setTimeout(tick, options.intervalMs);

  return {
    sweepNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current.catch(() => undefined);
    },
  };
}
