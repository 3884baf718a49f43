import { randomBytes } from "node:crypto";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createShopService, type EventConsumer, type Platform, type ShopService } from "@shop/platform";
import {
  type CatalogReadModel,
  type CatalogSeed,
  createCatalogReadModel,
  type RebuildProgress,
} from "./catalog-read-model.js";
import type { SearchConfig } from "./config.js";
import { createStreamReplay, startCatalogConsumers, streamEnds } from "./events.js";
import { forwardedReindex, type Reindex, reindexSubject, serveReindexRequests } from "./reindex-forwarding.js";
import { createSearchServiceImpl } from "./service.js";
import type { CatalogIndexBackend } from "./store/catalog-index.js";
import { readCatalogSnapshot, writeCatalogSnapshot } from "./store/catalog-snapshot.js";
import { createEmbeddedBackend } from "./store/embedded/embedded-backend.js";
import { openIndexWriterLease } from "./store/index-writer-lease.js";
import { createOpenSearchBackend } from "./store/opensearch/opensearch-backend.js";
import { createSingleWriterBackend, type SingleWriterBackend } from "./store/single-writer-backend.js";

/** What tests vary about a search instance; a deployment passes none of them. */
export interface SearchOverrides {
  /** An index backend built by the caller instead of the one SHOP_SEARCH_BACKEND names. */
  backend?: CatalogIndexBackend;
}

/** A replica's part in writing a shared index: whether it holds the writer lease, and how often it swapped the alias. */
export type IndexWriter = Pick<SingleWriterBackend, "lease" | "swaps">;

/** A search instance: the common service shape, plus its read model and what its start-up replay built. */
export interface Search extends ShopService {
  readModel: CatalogReadModel;
  /** Resolves with what the start-up replay applied once the catalog is built; rejects if building it failed. */
  built: Promise<RebuildProgress>;
  /** With the OpenSearch backend: the replicas share the alias, and only the lease holder writes it. */
  indexWriter?: IndexWriter;
}

/** The OpenSearch alias of a namespace: namespaces keep test runs and tenants apart in one cluster as on NATS. */
export function opensearchAlias(namespace: string, index = "shop-catalog"): string {
  return namespace ? `${namespace.toLowerCase()}-${index}` : index;
}

/**
 * The index backend. Embedded: each replica has its own. OpenSearch: the replicas share one alias, so it is wrapped to
 * let only the holder of the writer lease write it.
 */
async function backendOf(
  platform: Platform,
  config: SearchConfig,
  overrides: SearchOverrides,
  owner: string,
): Promise<CatalogIndexBackend | SingleWriterBackend> {
  if (overrides.backend) return overrides.backend;
  if (config.SHOP_SEARCH_BACKEND === "embedded") return createEmbeddedBackend();
  const alias = opensearchAlias(config.SHOP_NAMESPACE, config.SHOP_OPENSEARCH_INDEX);
  const { js, logger } = platform;
  const lease = await openIndexWriterLease({
    js,
    namespace: config.SHOP_NAMESPACE,
    alias,
    owner,
    ttlMs: config.SHOP_SEARCH_WRITER_LEASE_S * 1000,
    replicas: platform.config.SHOP_NATS_STREAM_REPLICAS,
    logger,
  });
  const opensearch = createOpenSearchBackend({
    url: config.SHOP_OPENSEARCH_URL,
    alias,
    logger,
    refreshIntervalMs: config.SHOP_OPENSEARCH_REFRESH_INTERVAL_MS,
  });
  return createSingleWriterBackend(opensearch, lease, { logger });
}

const isSingleWriter = (backend: CatalogIndexBackend): backend is SingleWriterBackend => "lease" in backend;

/** A saved catalog if it still fits the streams: a stream recreated or truncated since makes it useless. */
async function usableSnapshot(platform: Platform, namespace: string, dir: string): Promise<CatalogSeed | undefined> {
  const { jsm, logger } = platform;
  let seed: CatalogSeed | undefined;
  try {
    seed = await readCatalogSnapshot(dir);
  } catch (err) {
    logger.warn({ err, dir }, "catalog snapshot unreadable; replaying the streams from the start");
    return undefined;
  }
  if (!seed) return undefined;
  const ends = await streamEnds(jsm, namespace);
  for (const [stream, end] of Object.entries(ends)) {
    const saved = seed.positions[stream];
    if (!saved || saved.created !== end.created || saved.sequence > end.sequence) {
      logger.warn({ stream, saved, end }, "catalog snapshot does not match the streams; replaying from the start");
      return undefined;
    }
  }
  return seed;
}

/**
 * Builds the search service on a platform: durable consumers feed the read model from now on, and a replay of the
 * streams (after the snapshot in SHOP_SEARCH_SNAPSHOT_DIR, when there is one) builds the catalog in the background;
 * the service reports not ready until it is done. main.ts, the tests and the benchmarks all start search through it.
 *
 * With OpenSearch, every replica still keeps its own projection (stock is joined to products and collections are
 * listed from it, so each needs every event), but only the holder of the writer lease writes the shared index: it
 * builds the versions and swaps the alias, and answers the other replicas' Reindex requests. A replica that takes the
 * lease over rebuilds the index, since it cannot know what the previous holder had written.
 */
export async function createSearch(
  platform: Platform,
  config: SearchConfig,
  overrides: SearchOverrides = {},
): Promise<Search> {
  const { js, jsm, logger } = platform;
  const namespace = config.SHOP_NAMESPACE;
  const snapshotDir = config.SHOP_SEARCH_SNAPSHOT_DIR || undefined;
  // One name per process: replicas started with the same configuration must not share a durable or the lease.
  const instance = `${config.SHOP_SEARCH_CONSUMER}-${randomBytes(3).toString("hex")}`;
  const backend = await backendOf(platform, config, overrides, instance);
  const writer = isSingleWriter(backend) ? backend : undefined;
  const readModel = createCatalogReadModel({ backend, logger });
  const replay = createStreamReplay({ js, jsm, namespace, logger });
  const seed = snapshotDir ? await usableSnapshot(platform, namespace, snapshotDir) : undefined;
  const consumers: EventConsumer[] = await startCatalogConsumers({
    js,
    jsm,
    namespace,
    logger,
    consumerName: instance,
    metrics: platform.metrics,
    apply: (event, position) => readModel.apply(event, position),
  });
  // Before the first build: of replicas starting at once, the one that takes the lease builds the first version.
  await writer?.lease.start();
  const built = readModel.rebuild(replay, undefined, seed);

  const rebuildHere: Reindex = (onProgress) => readModel.rebuild(replay, onProgress);
  let reindex = rebuildHere;
  let reindexServer: { stop(): void } | undefined;
  let stopping = false;
  if (writer) {
    const subject = reindexSubject(namespace, opensearchAlias(namespace, config.SHOP_OPENSEARCH_INDEX));
    const forward = forwardedReindex({ nats: platform.nats, subject });
    reindex = (onProgress) => (writer.lease.held ? rebuildHere(onProgress) : forward(onProgress));
    reindexServer = serveReindexRequests({
      nats: platform.nats,
      subject,
      lease: writer.lease,
      reindex: rebuildHere,
      logger,
    });
    // Takeovers queue behind the start-up build and each other, so each one builds a version of its own.
    let takeovers: Promise<unknown> = built.catch(() => undefined);
    writer.lease.onAcquired(() => {
      takeovers = takeovers
        .then(() => (stopping ? undefined : readModel.rebuild(replay)))
        .catch((err: unknown) => logger.error({ err }, "rebuilding the shared index after taking the lease failed"));
    });
  }

  let saving: Promise<void> | undefined;
  let savedEvents = -1;
  const saveSnapshot = () => {
    const source = readModel.snapshotSource();
    if (!snapshotDir || !source || saving || source.projection.appliedEvents === savedEvents) return saving;
    const events = source.projection.appliedEvents;
    saving = writeCatalogSnapshot(snapshotDir, source)
      .then(({ records, path }) => {
        savedEvents = events;
        logger.info({ records, path }, "catalog snapshot saved");
      })
      .catch((err) => logger.warn({ err, dir: snapshotDir }, "catalog snapshot failed"))
      .finally(() => {
        saving = undefined;
      });
    return saving;
  };
  const timer = snapshotDir ? setInterval(saveSnapshot, config.SHOP_SEARCH_SNAPSHOT_INTERVAL_S * 1000) : undefined;
  timer?.unref();

  const service = createShopService(
    platform,
    {
      name: "search",
      routes: (router) => router.service(SearchService, createSearchServiceImpl({ readModel, reindex })),
      isReady: () => readModel.ready,
      onShutdown: [
        async () => {
          stopping = true;
          clearInterval(timer);
          reindexServer?.stop();
          // Durables of this process only: nothing resumes them, so they go now rather than after a day idle.
          for (const consumer of consumers) await consumer.remove();
          await saving;
          await saveSnapshot();
          await readModel.close();
          // Released last, after the pending writes went out: the next holder starts from a complete index.
          await writer?.lease.stop();
        },
      ],
    },
    // Without its catalog the service would answer with partial results forever.
    built.then(() => undefined),
  );
  return { ...service, readModel, built, indexWriter: writer };
}
