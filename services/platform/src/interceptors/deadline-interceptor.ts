import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { callerDeadlineKey, deadlinePassed } from "../server/deadline-header.js";

interface RunningCall {
  endsAt: number;
  fail(error: ConnectError): void;
}

/**
 * Ends a unary call as DeadlineExceeded the moment its deadline passes, even if the handler is still waiting on
 * something that ignores `ctx.signal`: the caller gets a status, not a dropped stream, and the handler's late result
 * is discarded. A caller's own deadline (already cut to `maxTimeoutMs` by the platform, which notes when it passes)
 * gets a timer; calls without one get `maxTimeoutMs` from one shared sweep (at most one sweep interval late) instead of
 * a timer each, which keeps the common case nearly as cheap as no deadline at all.
 */
export function deadlineInterceptor(maxTimeoutMs: number): Interceptor {
  const running = new Set<RunningCall>();
  const sweepEveryMs = Math.max(10, Math.min(250, Math.floor(maxTimeoutMs / 10)));
  let sweep: NodeJS.Timeout | undefined;
  const watch = (call: RunningCall) => {
    running.add(call);
    sweep ??= setInterval(() => {
      const now = performance.now();
      for (const each of running) {
        if (each.endsAt > now) continue;
        running.delete(each);
        each.fail(new ConnectError(`the call ran past the server's ${maxTimeoutMs} ms maximum`, Code.DeadlineExceeded));
      }
      if (running.size === 0) {
        clearInterval(sweep);
        sweep = undefined;
      }
    }, sweepEveryMs).unref();
  };

  return (next) => (req) => {
    if (req.stream) return next(req);
    const endsAt = req.contextValues.get(callerDeadlineKey);
    if (endsAt === undefined) {
      return new Promise((resolve, reject) => {
        const call: RunningCall = { endsAt: performance.now() + maxTimeoutMs, fail: reject };
        watch(call);
        next(req).then(
          (res) => {
            running.delete(call);
            resolve(res);
          },
          (err: unknown) => {
            running.delete(call);
            reject(err);
          },
        );
      });
    }
    // The caller's own deadline: a timer of its own, not the call's abort signal, which a call need not make.
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(deadlinePassed()), Math.max(0, endsAt - performance.now()));
      next(req)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  };
}
