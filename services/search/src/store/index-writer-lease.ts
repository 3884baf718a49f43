import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { Logger } from "@shop/platform";

/**
 * Which search replica writes a shared OpenSearch alias. Replicas share one index, so exactly one of them may write
 * documents, build versions and swap the alias; the others only read. A holder that dies stops renewing, and its lease
 * lapses after the TTL for another replica to take.
 */
export interface IndexWriterLease {
  /** This replica's name in the lease (unique per process). */
  readonly owner: string;
  /**
   * True while this replica may write: it renewed the lease recently enough that it cannot have lapsed on the server.
   * Checked before every write, so a holder cut off from NATS stops writing before anyone else may start.
   */
  readonly held: boolean;
  /** The owner NATS names as the holder now, or undefined when nobody holds it. */
  holder(): Promise<string | undefined>;
  /** Called whenever this replica gains the lease after not holding it (not for the first attempt, in `start`). */
  onAcquired(listener: () => void): void;
  /** Tries once to take the lease and resolves with whether it did; from then on renews it or tries to take it. */
  start(): Promise<boolean>;
  /** Stops renewing and gives the lease up, so another replica takes over at once instead of after the TTL. */
  stop(): Promise<void>;
}

export interface IndexWriterLeaseOptions {
  js: JetStreamClient;
  namespace: string;
  /** The alias the lease is for: one writer per alias. */
  alias: string;
  owner: string;
  /** How long a lease lasts without renewal (the KV bucket's TTL). Renewed every third of it. */
  ttlMs: number;
  /** Copies of the bucket in a NATS cluster when it is created (SHOP_NATS_STREAM_REPLICAS). Default 1. */
  replicas?: number;
  logger: Logger;
  /** The clock the lease's validity is measured with. Default Date.now. */
  now?: () => number;
}

const isConflict = (err: unknown) => /wrong last sequence|key exists/i.test((err as Error)?.message ?? "");

/**
 * The lease as one key (the alias) of a JetStream KV bucket (`<namespace>_search_index_writers`) whose entries expire
 * after `ttlMs`. Taking it is `create` (only if absent), renewing it is `update` at the revision this replica wrote
 * last, so two replicas can never both succeed. The holder counts itself valid for two thirds of the TTL from the
 * moment it sent the last renewal: the server cannot have expired the key earlier, whatever the network delay.
 */
export async function openIndexWriterLease(options: IndexWriterLeaseOptions): Promise<IndexWriterLease> {
  const { owner, alias, ttlMs, logger } = options;
  const now = options.now ?? Date.now;
  const bucket = options.namespace ? `${options.namespace}_search_index_writers` : "search_index_writers";
  const kv: KV = await new Kvm(options.js).create(bucket, {
    ttl: ttlMs,
    history: 1,
    replicas: options.replicas ?? 1,
  });
  const listeners = new Set<() => void>();
  const validMs = Math.floor((ttlMs * 2) / 3);
  let revision = 0;
  let validUntil = 0;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let stopped = false;

  const held = () => revision > 0 && now() < validUntil;

  /** A renewal whose reply was lost may have been stored: the key still names this owner at a newer revision. */
  const adoptOwnEntry = async (): Promise<boolean> => {
    const entry = await kv.get(alias).catch(() => null);
    if (entry?.operation !== "PUT" || entry.string() !== owner) return false;
    revision = entry.revision;
    return true;
  };

  const attempt = async (): Promise<boolean> => {
    const wasHeld = held();
    const sentAt = now();
    try {
      revision = revision > 0 ? await kv.update(alias, owner, revision) : await kv.create(alias, owner);
      validUntil = sentAt + validMs;
    } catch (err) {
      if (!isConflict(err)) {
        logger.warn({ err, alias }, "index writer lease: NATS did not answer; trying again");
        return false;
      }
      if (await adoptOwnEntry()) {
        validUntil = sentAt + validMs;
      } else {
        if (revision > 0) logger.warn({ alias, owner }, "index writer lease lost to another replica");
        revision = 0;
        return false;
      }
    }
    if (!wasHeld) logger.info({ alias, owner }, "index writer lease taken: this replica writes the index");
    return !wasHeld;
  };

  const tick = () => {
    ticking ??= attempt()
      .then((acquired) => {
        if (acquired && !stopped) for (const listener of listeners) listener();
      })
      .finally(() => {
        ticking = undefined;
      });
  };

  return {
    owner,
    get held() {
      return held();
    },
    async holder() {
      const entry = await kv.get(alias);
      return entry?.operation === "PUT" ? entry.string() : undefined;
    },
    onAcquired(listener) {
      listeners.add(listener);
    },
    async start() {
      await attempt();
      timer = setInterval(tick, Math.max(100, Math.floor(ttlMs / 3)));
      timer.unref();
      return held();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await ticking;
      if (revision === 0) return;
      const mine = revision;
      revision = 0;
      await kv
        .delete(alias, { previousSeq: mine })
        .catch((err: unknown) => logger.warn({ err, alias }, "index writer lease not released; it lapses by TTL"));
    },
  };
}
