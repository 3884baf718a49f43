import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { isConnectionRefused, type ReplicaRotation } from "./replica-rotation.js";

/** How connect-node reports a connection that broke mid-call (stream cancelled, socket reset). */
const brokenCallCodes = new Set([Code.Canceled, Code.Aborted, Code.Unknown, Code.Unavailable]);

/**
 * A call the replica never answered with a status of its own (it died mid-call) fails as Canceled, Aborted or Unknown
 * in connect-node; unless the caller cancelled it, that is the replica being unavailable, which callers may retry.
 */
function asUnavailableUnlessCancelled(err: unknown, signal: AbortSignal | undefined): unknown {
  const error = ConnectError.from(err);
  if (error.isWireError || !brokenCallCodes.has(error.code) || signal?.aborted) return err;
  return new ConnectError(
    `the service broke off the call: ${error.rawMessage}`,
    Code.Unavailable,
    error.metadata,
    [],
    err,
  );
}

/**
 * One transport over several replicas of a service: each unary call goes to the next replica in rotation, and to the
 * one after when a replica refuses the connection (nothing was sent, so any call may go elsewhere). A call that broke
 * after it was sent fails as Unavailable: only the caller knows whether repeating it is safe (its idempotency key).
 * Streaming calls go to the next replica without failover, as their input cannot be replayed.
 */
export function createFailoverTransport(
  rotation: ReplicaRotation,
  transportFor: (baseUrl: string) => Transport,
): Transport {
  const transports = new Map(rotation.urls.map((url) => [url, transportFor(url)]));
  const transport = (url: string) => transports.get(url) as Transport;
  return {
    async unary(method, signal, timeoutMs, header, input, contextValues) {
      const candidates = rotation.next();
      for (const [index, url] of candidates.entries()) {
        try {
          return await transport(url).unary(method, signal, timeoutMs, header, input, contextValues);
        } catch (err) {
          // A replica that refused, or whose connection broke mid-call, is likely down: later calls go elsewhere.
          if (isConnectionRefused(err)) {
            rotation.keepOut(url);
            if (index < candidates.length - 1 && !signal?.aborted) continue;
            throw err;
          }
          const broken = asUnavailableUnlessCancelled(err, signal);
          if (broken !== err) rotation.keepOut(url);
          throw broken;
        }
      }
      throw new Error("unreachable: a rotation always names a replica");
    },
    stream(method, signal, timeoutMs, header, input, contextValues) {
      const [url] = rotation.next();
      return transport(url as string).stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };
}
