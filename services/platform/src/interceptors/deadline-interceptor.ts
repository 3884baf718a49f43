import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Ends a unary call as DeadlineExceeded the moment its deadline passes (every call has one: the platform sets the
 * server-side maximum when the caller gives none), even if the handler is still waiting on
 * something that ignores `ctx.signal`: the caller gets a status, not a dropped stream, and the handler's late result
 * is discarded.
 */
export function deadlineInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const { signal } = req;
    if (signal.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(ConnectError.from(signal.reason, Code.Canceled));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([next(req), aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  };
}
