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
 * Cuts the caller's deadline to `maxMs` in the request's own header; with `setWhenMissing`, also sets `maxMs` when the
 * caller gave none (the gateway passes it on). A malformed header is left for the protocol to refuse. Returns the
 * deadline the call now runs under.
 */
export function clampDeadline(header: Headers, maxMs: number, setWhenMissing = true): number {
  const requested = requestedTimeoutMs(header);
  if (requested === undefined && !setWhenMissing) return maxMs;
  if (requested !== undefined && (Number.isNaN(requested) || requested <= maxMs)) return requested;
  if (isGrpc(header)) header.set("grpc-timeout", `${Math.ceil(maxMs)}m`);
  else header.set("connect-timeout-ms", String(Math.ceil(maxMs)));
  return maxMs;
}
