import { create } from "@bufbuild/protobuf";
import { type CatalogProduct, CatalogProductSchema } from "@shop/contracts/shop/search/v1/search_pb.js";
import {
  type ListCollectionsRequest,
  type ListCollectionsResponse,
  type SearchProductsRequest,
  type SearchProductsResponse,
  SearchProductsResponseSchema,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { type Logger, NotFoundError } from "@shop/platform";
import { decodeProduct, encodingBytes, type StoredProduct } from "./domain/catalog-product.js";
import { type CatalogEvent, CatalogProjection } from "./domain/catalog-projection.js";
import { collectionPage } from "./domain/collection-page.js";
import { appendEncodedHits, preEncoded } from "./domain/encoded-messages.js";
import { encodePageToken, prepareSearch } from "./domain/search-request.js";
import type { CatalogIndexBackend, CatalogIndexVersion, IndexStats } from "./store/catalog-index.js";

/** How far a stream has been applied: every event up to `sequence` of the stream created at `created`. */
export interface StreamPosition {
  sequence: number;
  /** The stream's creation time: a stream deleted and recreated starts its sequences again. */
  created: string;
}

/** Positions by contract stream name ("PRODUCTS", "INVENTORY"). */
export type StreamPositions = Record<string, StreamPosition>;

/** Where an event came from, so a snapshot knows how far the streams are applied. */
export interface EventPosition {
  stream: string;
  sequence: number;
  /** A live event's time of storing in JetStream (ms since the epoch), which an index writer's deadline counts from. */
  storedAtMs?: number;
}

/**
 * Replays the stored catalog events into `apply` up to the end of the streams (as of the call), reporting progress;
 * resolves to the positions reached. With `after`, each stream resumes after its position.
 */
export interface CatalogEventSource {
  replay(
    apply: (event: CatalogEvent, position: EventPosition) => void,
    progress: (applied: number, total: number) => void,
    after?: StreamPositions,
  ): Promise<StreamPositions>;
}

export interface RebuildProgress {
  version: string;
  applied: number;
  total: number;
  done: boolean;
}

/** A saved projection and how far the streams were applied into it (see catalog-snapshot.ts). */
export interface CatalogSeed {
  projection: CatalogProjection;
  positions: StreamPositions;
}

export interface CatalogReadModel {
  /** Applies a live event to the served version and to any version being rebuilt. Synchronous and idempotent. */
  apply(event: CatalogEvent, position?: EventPosition): void;
  /**
   * Builds a new version by replaying `source` (after `seed`, when given), then serves it; searches keep using the
   * previous version meanwhile. A rebuild already running is joined rather than started twice.
   */
  rebuild(
    source: CatalogEventSource,
    onProgress?: (progress: RebuildProgress) => void,
    seed?: CatalogSeed,
  ): Promise<RebuildProgress>;
  /** True once the first rebuild finished: until then results may be incomplete. */
  readonly ready: boolean;
  search(request: SearchProductsRequest, form?: ResponseForm): Promise<SearchProductsResponse>;
  getProduct(id: string, form?: ResponseForm): Promise<CatalogProduct>;
  listCollections(request: ListCollectionsRequest): ListCollectionsResponse;
  /** The served projection and how far it has applied the streams, for a snapshot; undefined before the first build. */
  snapshotSource(): CatalogSeed | undefined;
  /** Resolves once every event applied so far is searchable (OpenSearch refresh; immediate when embedded). */
  refresh(): Promise<void>;
  stats(): Promise<IndexStats & { products: number; skus: number; collections: number; appliedEvents: number }>;
  close(): Promise<void>;
}

/**
 * How a response is built: "objects" decodable by any codec; "bytes" carries the products as their stored encodings
 * (unknown fields that toBinary writes verbatim), for binary codecs only, and saves encoding them on every call.
 */
export type ResponseForm = "objects" | "bytes";

export interface CatalogReadModelOptions {
  backend: CatalogIndexBackend;
  logger: Logger;
}

/** A projection, the index version it feeds and how far it has applied each stream: built and served together. */
interface CatalogVersion {
  projection: CatalogProjection;
  index: CatalogIndexVersion;
  positions: StreamPositions;
}

/** The catalog read model: event-fed projections with their index versions, and the queries customers run on them. */
export function createCatalogReadModel(options: CatalogReadModelOptions): CatalogReadModel {
  const { backend, logger } = options;
  let served: CatalogVersion | undefined;
  const building = new Set<CatalogVersion>();
  let running: { promise: Promise<RebuildProgress>; listeners: Set<(progress: RebuildProgress) => void> } | undefined;
  let ready = false;

  const applyTo = (version: CatalogVersion, event: CatalogEvent, position?: EventPosition) => {
    const change = version.projection.apply(event);
    if (change.upserts.length > 0 || change.removals.length > 0) {
      version.index.write(change.upserts, change.removals, position?.storedAtMs);
    }
    // Live events come in stream order, so once a version is built the last one applied is how far its stream is
    // applied. While building, the replay's end is the safe answer (applying again later is harmless).
    const known = position && !building.has(version) ? version.positions[position.stream] : undefined;
    if (known && position && position.sequence > known.sequence) known.sequence = position.sequence;
  };
  const targets = (): Set<CatalogVersion> => {
    const all = new Set(building);
    if (served) all.add(served);
    return all;
  };
  /** Collections and handles come from the served projection, or the one being built before the first swap. */
  const readProjection = (): CatalogProjection | undefined => served?.projection ?? [...building][0]?.projection;

  const runRebuild = async (
    source: CatalogEventSource,
    notify: (progress: RebuildProgress) => void,
    seed: CatalogSeed | undefined,
  ): Promise<RebuildProgress> => {
    const started = Date.now();
    const index = await backend.createVersion();
    const version: CatalogVersion = {
      projection: seed?.projection ?? new CatalogProjection(),
      index,
      positions: {},
    };
    if (seed) {
      // In batches: each product is decoded for the index to read, and a million at once would not fit the heap.
      let batch: StoredProduct[] = [];
      for (const stored of version.projection.storedProducts()) {
        batch.push(stored);
        if (batch.length === 1_000) {
          index.write(batch, []);
          batch = [];
        }
      }
      index.write(batch, []);
    }
    const serveAtOnce = !(await backend.hasActive());
    if (serveAtOnce) {
      // Nothing to serve meanwhile: serve the new version while it fills (not ready yet).
      await backend.activate(index);
      served = version;
    }
    building.add(version);
    const progress: RebuildProgress = { version: index.name, applied: 0, total: 0, done: false };
    let lastNotified = 0;
    try {
      const reached = await source.replay(
        (event, position) => applyTo(version, event, position),
        (applied, total) => {
          progress.applied = applied;
          progress.total = total;
          const now = Date.now();
          if (now - lastNotified >= 200) {
            lastNotified = now;
            notify({ ...progress });
          }
        },
        seed?.positions,
      );
      version.positions = reached;
      version.projection.trimToSize();
      await index.refresh();
      if (!serveAtOnce) await backend.activate(index);
      served = version;
    } catch (err) {
      if (!serveAtOnce) await backend.discard(index).catch(() => undefined);
      throw err;
    } finally {
      building.delete(version);
    }
    const final = { ...progress, done: true };
    logger.info(
      { version: final.version, events: final.applied, seeded: seed !== undefined, ms: Date.now() - started },
      "catalog index version built and served",
    );
    return final;
  };

  return {
    apply(event, position) {
      for (const version of targets()) applyTo(version, event, position);
    },

    rebuild(source, onProgress, seed) {
      if (!running) {
        const listeners = new Set<(progress: RebuildProgress) => void>();
        const promise = runRebuild(
          source,
          (progress) => {
            for (const listener of listeners) listener(progress);
          },
          seed,
        ).finally(() => {
          running = undefined;
        });
        promise.then(
          () => {
            ready = true;
          },
          () => undefined,
        );
        running = { promise, listeners };
      }
      if (onProgress) running.listeners.add(onProgress);
      return running.promise;
    },

    get ready() {
      return ready;
    },

    async search(request, form = "objects") {
      const projection = readProjection();
      const { query, fingerprint } = prepareSearch(request, (id) => projection?.collectionId(id) ?? id);
      const result = await backend.search(query);
      const last = result.hits.at(-1);
      const asBytes = form === "bytes";
      const response = create(SearchProductsResponseSchema, {
        // JSON needs objects: only the page's hits are decoded.
        hits: asBytes
          ? []
          : result.hits.map((hit) => ({ product: decodeProduct(encodingBytes(hit.encoded)), score: hit.score })),
        facets: result.facets.map((facet) => ({
          name: facet.name,
          values: facet.values.map((v) => ({ value: v.value, count: BigInt(v.count) })),
        })),
        nextPageToken:
          result.hasMore && last ? encodePageToken({ value: last.sortValue, id: last.id }, fingerprint) : "",
        totalSize: BigInt(result.total),
      });
      if (!asBytes) return response;
      return appendEncodedHits(response, result.hits);
    },

    async getProduct(id, form = "objects") {
      const encoded = await backend.getEncoded(id);
      if (!encoded) throw new NotFoundError(`product ${id} is not in the catalog (unknown, draft or archived)`);
      return form === "bytes" ? preEncoded(CatalogProductSchema, encoded) : decodeProduct(encoded);
    },

    listCollections(request) {
      return collectionPage(readProjection()?.listedCollections() ?? [], request);
    },

    snapshotSource() {
      if (!ready || !served) return undefined;
      return { projection: served.projection, positions: structuredClone(served.positions) };
    },

    async refresh() {
      await Promise.all([...targets()].map((version) => version.index.refresh()));
    },

    async stats() {
      const size = served?.projection.size ?? { listed: 0, skus: 0, collections: 0 };
      return {
        ...(await backend.stats()),
        products: size.listed,
        skus: size.skus,
        collections: size.collections,
        appliedEvents: served?.projection.appliedEvents ?? 0,
      };
    },

    async close() {
      await Promise.all([...targets()].map((version) => version.index.refresh().catch(() => undefined)));
      await backend.close();
    },
  };
}
