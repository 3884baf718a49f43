import { Code, ConnectError, createContextKey } from "@connectrpc/connect";

const grpcUnitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

function isGrpc(header: Headers): boolean {
  return (header.get("content-type") ?? "").startsWith("application/grpc");
}

/**
 * The deadline a call asks for, in milliseconds, from `grpc-timeout` (gRPC, gRPC-web) or `connect-timeout-ms`
 * (Connect); undefined when it asks for none, NaN when the header is malformed.
 */
export function requestedTimeoutMs(header: Headers): number | undefined {
  if (isGrpc(header)) {
    const value = header.get("grpc-timeout");
    if (value === null) return undefined;
    const match = /^(\d{1,8})([HMSmun])$/.exec(value);
    return match ? Number(match[1]) * (grpcUnitMs[match[2] ?? "m"] ?? 1) : Number.NaN;
  }
  const value = header.get("connect-timeout-ms");
  if (value === null) return undefined;
  return /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
}

/**
 * Cuts the caller's deadline to `maxMs` in the request's own header. Returns the deadline the call now runs under,
 * undefined when the caller gave none, NaN when its header is malformed (left for the protocol to refuse).
 */
export function clampDeadline(header: Headers, maxMs: number): number | undefined {
  const requested = requestedTimeoutMs(header);
  if (requested === undefined || Number.isNaN(requested) || requested <= maxMs) return requested;
  return setDeadline(header, maxMs);
}

/** Sets a deadline of `ms` in the request's protocol (the gateway gives one to calls that came without). */
export function setDeadline(header: Headers, ms: number): number {
  if (isGrpc(header)) header.set("grpc-timeout", `${Math.ceil(ms)}m`);
  else header.set("connect-timeout-ms", String(Math.ceil(ms)));
  return ms;
}

/**
 * When the deadline the caller sent (cut to the server's maximum) passes, as a `performance.now()` time; undefined
 * when it sent none. Set by the platform's request handler, read by the deadline interceptor.
 */
export const callerDeadlineKey = createContextKey<number | undefined>(undefined, {
  description: "when the caller's deadline passes",
});

/** What a call whose caller's deadline passed ends with (connect-es's own words for it). */
export function deadlinePassed(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}
