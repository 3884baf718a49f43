import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { requestedTimeoutMs } from "../server/deadline-header.js";

interface RunningCall {
  endsAt: number;
  fail(error: ConnectError): void;
}

/**
 * Ends a unary call as DeadlineExceeded the moment its deadline passes, even if the handler is still waiting on
 * something that ignores `ctx.signal`: the caller gets a status, not a dropped stream, and the handler's late result
 * is discarded. A caller's own deadline (already cut to `maxTimeoutMs` by the platform) arrives as connect-es's
 * abort signal; calls without one get `maxTimeoutMs` from one shared sweep instead of a timer each, which keeps the
 * common case as cheap as no deadline at all.
 */
export function deadlineInterceptor(maxTimeoutMs: number): Interceptor {
  const running = new Set<RunningCall>();
  let sweep: NodeJS.Timeout | undefined;
  const sweepEveryMs = Math.max(10, Math.min(250, Math.floor(maxTimeoutMs / 10)));
  const startSweep = () => {
    sweep ??= setInterval(() => {
      const now = performance.now();
      for (const call of running) {
        if (call.endsAt <= now) {
          running.delete(call);
          call.fail(
            new ConnectError(`the call ran past the server's ${maxTimeoutMs} ms maximum`, Code.DeadlineExceeded),
          );
        }
      }
      if (running.size === 0) {
        clearInterval(sweep);
        sweep = undefined;
      }
    }, sweepEveryMs);
    sweep.unref();
  };

  return (next) => (req) => {
    if (req.stream) return next(req);
    const { signal } = req;
    const ownDeadline = requestedTimeoutMs(req.header) !== undefined;
    return new Promise((resolve, reject) => {
      const call: RunningCall = { endsAt: performance.now() + maxTimeoutMs, fail: reject };
      const onAbort = () => reject(ConnectError.from(signal.reason, Code.Canceled));
      if (ownDeadline) signal.addEventListener("abort", onAbort, { once: true });
      else {
        running.add(call);
        startSweep();
      }
      next(req)
        .then(resolve, reject)
        .finally(() => {
          if (ownDeadline) signal.removeEventListener("abort", onAbort);
          else running.delete(call);
        });
    });
  };
}
