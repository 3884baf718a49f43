import { Client } from "@opensearch-project/opensearch";
import type { Logger } from "@shop/platform";
import type { StoredProduct } from "../../domain/catalog-product.js";
import type { CatalogQuery, CatalogResult } from "../../domain/catalog-query.js";
import type { CatalogIndexBackend, CatalogIndexVersion, IndexStats } from "../catalog-index.js";
import { catalogDocument, catalogIndexBody } from "./opensearch-mappings.js";
import { queryClause, searchBody, searchResult } from "./opensearch-query.js";
import { createVisibilityRefresher, type VisibilityRefresher } from "./visibility-refresher.js";

export interface OpenSearchBackendOptions {
  url: string;
  /** Alias searches read; each version is an index named `<alias>-<version>`. */
  alias: string;
  logger: Logger;
  /** Writes wait at most this long to be batched into one bulk request. Default 20 ms. */
  flushDelayMs?: number;
  /** A bulk request carries at most this many operations. Default 1000. */
  maxBatch?: number;
  /**
   * A write is searchable within this long of reaching the writer, which refreshes each index about once per interval
   * while writes flow (at once when the index was quiet). Default 1000 ms.
   */
  refreshIntervalMs?: number;
}

/**
 * A write waiting for a bulk request, when it came to the writer (the oldest, when writes coalesced) and how long its
 * event had taken to get there from JetStream (the longest).
 */
type PendingWrite = ({ kind: "index"; stored: StoredProduct } | { kind: "delete" }) & {
  arrivedAt: number;
  lagMs: number;
};

/**
 * The index's own periodic refresh, a backstop only: the writer refreshes each index itself (VisibilityRefresher), so
 * this must not add a second refresh every interval. It is not off (-1): a writer that dies between a bulk request and
 * the refresh meant to follow it (or whose refreshes keep failing) would leave those documents invisible until a new
 * version is built and swapped in. 30 s, or three writer intervals when that is longer, costs one extra refresh a
 * half-minute while writes flow.
 */
function backstopRefreshMs(refreshIntervalMs: number): number {
  return Math.max(30_000, 3 * refreshIntervalMs);
}

/**
 * Batches a version's writes into bulk requests. Writes to the same product coalesce (the last one wins), so bursts
 * of stock changes cost one document each. One bulk request is in flight at a time; a failed request is retried with
 * the writes it carried. Each successful request is handed to the version's refresher, which makes it searchable.
 */
class BulkWriter implements CatalogIndexVersion {
  private pending = new Map<string, PendingWrite>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  private readonly refresher: VisibilityRefresher;

  constructor(
    readonly name: string,
    private readonly client: Client,
    private readonly logger: Logger,
    private readonly flushDelayMs: number,
    private readonly maxBatch: number,
    refreshIntervalMs: number,
  ) {
    this.refresher = createVisibilityRefresher({
      index: name,
      intervalMs: refreshIntervalMs,
      logger,
      refresh: async () => {
        await client.indices.refresh({ index: name });
      },
    });
  }

  write(upserts: readonly StoredProduct[], removals: readonly string[], storedAtMs?: number): void {
    if (this.closed) return;
    // A write that replaces one still waiting keeps the older arrival (its deadline is the earlier one) and the longer
    // lag. A clock behind the NATS server's reads as no lag; however long a lag, the refresher bounds its margin.
    const now = performance.now();
    const lag = storedAtMs === undefined ? 0 : Math.max(0, Date.now() - storedAtMs);
    const timing = (id: string) => {
      const waiting = this.pending.get(id);
      return { arrivedAt: waiting?.arrivedAt ?? now, lagMs: Math.max(waiting?.lagMs ?? 0, lag) };
    };
    for (const stored of upserts)
      this.pending.set(stored.product.id, { kind: "index", stored, ...timing(stored.product.id) });
    for (const id of removals) this.pending.set(id, { kind: "delete", ...timing(id) });
    if (this.pending.size >= this.maxBatch) this.startFlush();
    else this.timer ??= setTimeout(() => this.startFlush(), this.flushDelayMs);
  }

  private startFlush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.flushAll().finally(() => {
      this.flushing = undefined;
      if (this.pending.size > 0) this.timer ??= setTimeout(() => this.startFlush(), this.flushDelayMs);
    });
  }

  private async flushAll(): Promise<void> {
    while (this.pending.size > 0 && !this.closed) {
      const batch = [...this.pending].slice(0, this.maxBatch);
      for (const [id] of batch) this.pending.delete(id);
      try {
        await this.send(batch);
        this.failures = 0;
        this.refresher.written(
          batch.reduce((oldest, [, write]) => Math.min(oldest, write.arrivedAt), Number.POSITIVE_INFINITY),
          batch.reduce((longest, [, write]) => Math.max(longest, write.lagMs), 0),
        );
      } catch (err) {
        // Put back what is not newer in the meantime, then back off; the read model stays correct in memory.
        for (const [id, write] of batch) if (!this.pending.has(id)) this.pending.set(id, write);
        this.failures++;
        this.logger.error({ err, index: this.name, failures: this.failures }, "bulk indexing failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** this.failures)));
      }
    }
  }

  private async send(batch: Array<[string, PendingWrite]>): Promise<void> {
    const body: unknown[] = [];
    for (const [id, write] of batch) {
      if (write.kind === "index") body.push({ index: { _index: this.name, _id: id } }, catalogDocument(write.stored));
      else body.push({ delete: { _index: this.name, _id: id } });
    }
    const response = await this.client.bulk({ body: body as never });
    const result = response.body as {
      errors: boolean;
      items: Array<Record<string, { status: number; error?: unknown; _id: string }>>;
    };
    if (!result.errors) return;
    for (const item of result.items) {
      const outcome = Object.values(item)[0];
      // A delete of a document never indexed is fine; anything else is a document the index refuses (logged, dropped).
      if (outcome?.error && outcome.status !== 404) {
        this.logger.error(
          { index: this.name, id: outcome._id, error: outcome.error },
          "document refused by OpenSearch",
        );
      }
    }
  }

  async refresh(): Promise<void> {
    if (this.closed) return;
    while (this.pending.size > 0 || this.flushing) {
      this.startFlush();
      await this.flushing;
    }
    await this.refresher.refreshNow();
  }

  /** Stops writing (the index is about to be deleted: a late bulk request would recreate it). */
  async close(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.refresher.close();
    await this.flushing;
  }
}

/**
 * OpenSearch as the index: one index per version with explicit mappings, bulk writes, an alias swapped atomically
 * to the version to serve, `search_after` paging and aggregations for facets.
 */
export function createOpenSearchBackend(options: OpenSearchBackendOptions): CatalogIndexBackend {
  const { alias, logger } = options;
  const refreshIntervalMs = options.refreshIntervalMs ?? 1_000;
  const client = new Client({ node: options.url });
  const writers = new Map<string, BulkWriter>();
  let sequence = 0;

  const aliasedIndices = async (): Promise<string[]> => {
    const exists = await client.indices.existsAlias({ name: alias });
    if (!exists.body) return [];
    const response = await client.indices.getAlias({ name: alias });
    return Object.keys(response.body as Record<string, unknown>);
  };

  /** Every index version of the alias, served or not. */
  const versionIndices = async (): Promise<string[]> => {
    const response = await client.indices.get({ index: `${alias}-v*`, expand_wildcards: "open" });
    return Object.keys(response.body as Record<string, unknown>);
  };

  const own = (version: CatalogIndexVersion): BulkWriter => {
    const writer = writers.get(version.name);
    if (!writer) throw new Error(`${version.name} is not an index version of ${alias}`);
    return writer;
  };

  const dropIndex = async (name: string) => {
    await writers.get(name)?.close();
    writers.delete(name);
    await client.indices.delete({ index: name, ignore_unavailable: true });
  };

  return {
    kind: "opensearch",

    async createVersion() {
      const name = `${alias}-v${Date.now()}-${++sequence}`;
      const settings = { ...catalogIndexBody.settings, refresh_interval: `${backstopRefreshMs(refreshIntervalMs)}ms` };
      await client.indices.create({ index: name, body: { ...catalogIndexBody, settings } as never });
      const writer = new BulkWriter(
        name,
        client,
        logger,
        options.flushDelayMs ?? 20,
        options.maxBatch ?? 1_000,
        refreshIntervalMs,
      );
      writers.set(name, writer);
      return writer;
    },

    async activate(version) {
      own(version);
      const previous = (await aliasedIndices()).filter((name) => name !== version.name);
      await client.indices.updateAliases({
        body: {
          actions: [
            ...previous.map((index) => ({ remove: { index, alias } })),
            { add: { index: version.name, alias } },
          ],
        },
      });
      // Versions nobody serves are builds a writer never finished (it died, or lost its lease): one writer per alias
      // means no other build of it can be running now.
      const abandoned = (await versionIndices()).filter((name) => name !== version.name && !previous.includes(name));
      for (const name of [...previous, ...abandoned]) await dropIndex(name);
      logger.info({ alias, index: version.name, dropped: previous, abandoned }, "search alias swapped");
    },

    async discard(version) {
      await dropIndex(version.name);
    },

    async hasActive() {
      return (await aliasedIndices()).length > 0;
    },

    async search(query: CatalogQuery): Promise<CatalogResult> {
      let after = query.after;
      if (after && query.sort === "relevance") {
        // Scores move as the corpus changes: re-score the last hit now, so the cursor sits where that hit is now.
        const anchor = await client.search({
          index: alias,
          body: { size: 1, _source: false, query: queryClause(query, [{ ids: { values: [after.id] } }]) } as never,
        });
        const score = (anchor.body as { hits: { hits: Array<{ _score?: number }> } }).hits.hits[0]?._score;
        if (typeof score === "number") after = { value: score, id: after.id };
      }
      const response = await client.search({ index: alias, body: searchBody(query, after) as never });
      return searchResult(query, response.body);
    },

    async getEncoded(id: string): Promise<Uint8Array | undefined> {
      const response = await client.get({ index: alias, id, _source_includes: ["product_pb"] }, { ignore: [404] });
      const body = response.body as { found?: boolean; _source?: { product_pb?: string } };
      if (!body.found || !body._source?.product_pb) return undefined;
      return Buffer.from(body._source.product_pb, "base64");
    },

    async stats(): Promise<IndexStats> {
      const [active] = await aliasedIndices();
      if (!active) return { backend: "opensearch", activeVersion: "", documents: 0, bytes: 0 };
      const response = await client.indices.stats({ index: active, metric: ["docs", "store"] });
      const total = (
        response.body as { _all: { primaries: { docs?: { count: number }; store?: { size_in_bytes: number } } } }
      )._all.primaries;
      return {
        backend: "opensearch",
        activeVersion: active,
        documents: total.docs?.count ?? 0,
        bytes: total.store?.size_in_bytes ?? 0,
      };
    },

    async close() {
      await Promise.all([...writers.values()].map((writer) => writer.refresh().catch(() => undefined)));
      for (const writer of writers.values()) await writer.close();
      await client.close();
    },
  };
}
