import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { isSafeToRepeat } from "./idempotency-keys.js";

/** How calls that are safe to repeat are retried after `unavailable`. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 4. */
  maxAttempts?: number;
  /** Upper bound of the first wait; each later wait doubles it. Default 100 ms. */
  initialDelayMs?: number;
  /** No wait is longer than this. Default 2,000 ms. */
  maxDelayMs?: number;
}

/**
 * A fetch that failed before any response (connection refused, DNS, reset) rejects with a TypeError in every
 * runtime; callers see it as the `unavailable` it is.
 */
function asConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof TypeError) {
    return new ConnectError(`the server could not be reached: ${err.message}`, Code.Unavailable, undefined, [], err);
  }
  return ConnectError.from(err);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Retries `unavailable` for calls that are safe to repeat, waiting an exponentially growing, jittered time between
 * attempts (half fixed, half random, so clients that failed together do not return together). The call's deadline
 * bounds the whole, waits included.
 */
export function retryInterceptor(options: RetryOptions = {}, random: () => number = Math.random): Interceptor {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 2_000;
  return (next) => async (req) => {
    const repeatable = !req.stream && isSafeToRepeat(req.method);
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (err) {
        if (req.signal.aborted) throw err;
        const error = asConnectError(err);
        if (error.code !== Code.Unavailable || !repeatable || attempt >= maxAttempts) throw error;
        const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
        await sleep(ceiling / 2 + random() * (ceiling / 2), req.signal);
        if (req.signal.aborted) throw error;
      }
    }
  };
}
