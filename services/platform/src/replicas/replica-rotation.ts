/**
 * Connection errors raised before a request could be sent: the replica is down (or its name does not resolve), so
 * the call can go to another replica whatever it does.
 */
const nothingSentCodes = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** Whether `err` (or an error it was caused by) says the connection was refused, so nothing reached the replica. */
export function isConnectionRefused(err: unknown): boolean {
  for (let cause = err, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && nothingSentCodes.has(code)) return true;
    cause = cause.cause;
  }
  return false;
}

/** Round robin over the replicas of one service, keeping a replica that refused or broke off a call out a while. */
export interface ReplicaRotation {
  readonly urls: readonly string[];
  /**
   * The replicas to try for one call, in order: from the next one in rotation, those in rotation first and those
   * kept out last (tried only when the others refuse too, so a service whose replicas all restarted is still reached).
   */
  next(): string[];
  /** `url` refused a connection or broke off a call: keep it behind the others for the keep-out time. */
  keepOut(url: string): void;
  /** The replicas kept out now. */
  keptOut(): string[];
}

export interface ReplicaRotationOptions {
  /** How long a replica kept out stays behind the others. Default 5 s: a restarted process is back by then. */
  keepOutMs?: number;
  /** Injected so tests move time; default Date.now. */
  now?: () => number;
}

export function createReplicaRotation(urls: readonly string[], options: ReplicaRotationOptions = {}): ReplicaRotation {
  if (urls.length === 0) throw new Error("a replica rotation needs at least one URL");
  const keepOutMs = options.keepOutMs ?? 5_000;
  const now = options.now ?? Date.now;
  const outUntil = new Map<string, number>();
  let cursor = 0;
  const isOut = (url: string) => (outUntil.get(url) ?? 0) > now();
  return {
    urls,
    next() {
      const start = cursor++ % urls.length;
      const rotated = [...urls.slice(start), ...urls.slice(0, start)];
      return [...rotated.filter((url) => !isOut(url)), ...rotated.filter(isOut)];
    },
    keepOut(url) {
      if (keepOutMs > 0) outUntil.set(url, now() + keepOutMs);
    },
    keptOut: () => urls.filter(isOut),
  };
}
