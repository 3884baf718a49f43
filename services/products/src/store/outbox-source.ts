import type { EncodedEvent, Logger, OutboxBacklog, OutboxBatch, OutboxSource } from "@shop/platform";
import pg from "pg";

export interface PostgresOutboxSourceOptions {
  pool: pg.Pool;
  /** Opens the dedicated LISTEN connection (it lives outside the pool). */
  connectionString: string;
  logger: Logger;
  /** How long published rows are kept before pruning. Default 7 days. */
  retentionMs?: number;
  /** How often pruning runs; 0 turns the timer off (tests call `prune`). Default 60 s. */
  pruneEveryMs?: number;
}

export interface PostgresOutboxSource extends OutboxSource {
  /** Unpublished rows (counted up to a million) and how long the oldest has waited. */
  backlog(): Promise<OutboxBacklog>;
  /** Deletes published rows older than the retention; returns how many went. */
  prune(): Promise<number>;
  /** Stops pruning and closes the LISTEN connection. */
  close(): Promise<void>;
}

interface OutboxRow {
  id: string;
  event_id: string;
  aggregate_id: string;
  aggregate_version: string;
  subject: string;
  type_name: string;
  data: Buffer;
}

const pruneChunk = 10_000;
/** The most unpublished events the backlog gauge counts. */
const backlogCountCap = 1_000_000;

/**
 * The products outbox as the platform relay's source. Several replicas may run a relay: a claim holds a
 * transaction-scoped advisory lock (per schema) from the moment it reads the batch until the batch is marked sent or
 * abandoned, so exactly one relay publishes at a time, always the oldest events first, which keeps every aggregate's
 * events in order. A relay that dies mid-batch loses its connection, its transaction rolls back, the lock frees, and
 * the next claim hands the same events out again; JetStream's msgID dedup stores each once.
 */
export function createOutboxSource(options: PostgresOutboxSourceOptions): PostgresOutboxSource {
  const { pool, logger } = options;
  const retentionSeconds = (options.retentionMs ?? 7 * 24 * 3_600_000) / 1000;
  let listener: pg.Client | undefined;
  let listening: Promise<void> | undefined;
  let lastListenAttempt = 0;
  let notified = false;
  let closed = false;
  const waiters = new Set<() => void>();

  const wake = () => {
    if (waiters.size === 0) notified = true;
    for (const resolve of waiters) resolve();
    waiters.clear();
  };
  // Where every connection shares one session (PGlite behind pglite-socket, `npm start`'s embedded database), the
  // NOTIFY comes back on the connection that committed, a pool connection, instead of the LISTEN connection.
  const heard = new WeakSet<pg.PoolClient>();
  pool.on("acquire", (client) => {
    if (heard.has(client)) return;
    heard.add(client);
    client.on("notification", wake);
  });

  const listen = async () => {
    const client = new pg.Client({ connectionString: options.connectionString });
    client.on("error", (err) => {
      logger.warn({ err }, "outbox: LISTEN connection lost; polling until it is back");
      listener = undefined;
      listening = undefined;
      client.end().catch(() => undefined);
    });
    client.on("notification", wake);
    await client.connect();
    const { rows } = await client.query<{ schema: string }>("select current_schema() as schema");
    await client.query(`listen "outbox_${rows[0]?.schema ?? "public"}"`);
    if (closed) await client.end();
    else listener = client;
  };

  const ensureListening = () => {
    if (closed || listener !== undefined || listening !== undefined) return;
    // A database that is down is retried at most every few seconds; polling covers the gap.
    if (Date.now() - lastListenAttempt < 5_000) return;
    lastListenAttempt = Date.now();
    listening = listen().catch((err) => {
      logger.warn({ err }, "outbox: cannot LISTEN; polling instead");
      listening = undefined;
    });
  };

  const claim = async (limit: number): Promise<OutboxBatch | undefined> => {
    ensureListening();
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`outbox: batch size ${limit} is not a positive integer`);
    const client = await pool.connect();
    let settled = false;
    /** Ends the claim's transaction and returns the connection; a failure discards the connection. */
    const settle = async (sql: string) => {
      if (settled) return;
      settled = true;
      try {
        await client.query(sql);
        client.release();
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
    };
    try {
      // One round trip: open the transaction, take the relay lock if free, read the oldest unpublished events.
      // Marking events sent need not wait for the disk (synchronous_commit off): a mark lost in a crash only means a
      // republish, which JetStream's dedup absorbs.
      // The lock is taken in a statement of its own, before the read: a statement reads the snapshot it started with,
      // so a read that also took the lock could see the rows of a relay that committed (and let go) meanwhile as still
      // unpublished, and publish them again.
      const results = (await client.query(
        `begin;
         set local synchronous_commit = off;
         select set_config('shop.outbox_leader',
           pg_try_advisory_xact_lock(hashtext(current_schema() || ':products-outbox'))::text, true);
         select id, event_id, aggregate_id, aggregate_version, subject, type_name, data
           from outbox where current_setting('shop.outbox_leader') = 'true' and publish_time is null
          order by id limit ${limit};`,
      )) as unknown as Array<{ rows: OutboxRow[] }>;
      const rows = results[3]?.rows ?? [];
      if (rows.length === 0) {
        await settle("commit");
        return undefined;
      }
      const events: EncodedEvent[] = rows.map((row) => ({
        subject: row.subject,
        typeName: row.type_name,
        eventId: row.event_id,
        aggregateId: row.aggregate_id,
        aggregateVersion: BigInt(row.aggregate_version),
        data: row.data,
      }));
      // Ids are bigints read from the table (digits only), so they can be inlined to keep settling one round trip.
      const ids = rows.map((row) => row.id).filter((id) => /^\d+$/.test(id));
      return {
        events,
        markPublished: () =>
          settle(`update outbox set publish_time = now() where id = any('{${ids.join(",")}}'::bigint[]); commit;`),
        abandon: () => settle("rollback").catch(() => undefined),
      };
    } catch (err) {
      if (!settled) {
        settled = true;
        await client.query("rollback").catch(() => undefined);
        client.release(err as Error);
      }
      throw err;
    }
  };

  const waitForWork = (timeoutMs: number, signal: AbortSignal) => {
    ensureListening();
    if (notified) {
      notified = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done);
      waiters.add(done);
    });
  };

  const prune = async () => {
    let total = 0;
    for (;;) {
      const result = await pool.query(
        `delete from outbox where id in (
           select id from outbox where publish_time < now() - make_interval(secs => $1) limit ${pruneChunk})`,
        [retentionSeconds],
      );
      total += result.rowCount ?? 0;
      if ((result.rowCount ?? 0) < pruneChunk) return total;
    }
  };

  const pruneEveryMs = options.pruneEveryMs ?? 60_000;
  const pruneTimer =
    pruneEveryMs > 0
      ? setInterval(() => {
          prune().then(
            (count) => count > 0 && logger.info({ count }, "outbox: pruned published events"),
            (err) => logger.warn({ err }, "outbox: pruning failed"),
          );
        }, pruneEveryMs)
      : undefined;
  pruneTimer?.unref();

  const backlog = async () => {
    // Counted up to a cap, so a scrape stays cheap however far the relay has fallen behind.
    const { rows } = await pool.query<{ events: number; age: number }>(
      `select count(*)::int as events, coalesce(extract(epoch from now() - min(create_time)), 0)::float8 as age
         from (select create_time from outbox where publish_time is null order by id limit ${backlogCountCap}) waiting`,
    );
    return { events: rows[0]?.events ?? 0, oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
  };

  return {
    claim,
    waitForWork,
    backlog,
    prune,
    async close() {
      closed = true;
      if (pruneTimer) clearInterval(pruneTimer);
      await listening;
      await listener?.end().catch(() => undefined);
      listener = undefined;
      wake();
    },
  };
}
