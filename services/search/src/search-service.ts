import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import type { EventConsumer, Logger, ServiceDefinition } from "@shop/platform";
import {
  type CatalogReadModel,
  type CatalogSeed,
  createCatalogReadModel,
  type RebuildProgress,
} from "./catalog-read-model.js";
import { createStreamReplay, startCatalogConsumers, streamEnds } from "./events.js";
import { createSearchServiceImpl } from "./service.js";
import type { CatalogIndexBackend } from "./store/catalog-index.js";
import { readCatalogSnapshot, writeCatalogSnapshot } from "./store/catalog-snapshot.js";
import { createEmbeddedBackend } from "./store/embedded/embedded-backend.js";
import { createOpenSearchBackend } from "./store/opensearch/opensearch-backend.js";

export interface SearchServiceOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** SHOP_NAMESPACE: prefixes streams and consumers, and the OpenSearch alias. */
  namespace: string;
  logger: Logger;
  /** "embedded" (default), "opensearch", or a backend built by the caller. */
  backend?: "embedded" | "opensearch" | CatalogIndexBackend;
  /** OpenSearch node, for backend "opensearch". */
  opensearchUrl?: string;
  /** Alias name before the namespace prefix. Default "shop-catalog". */
  opensearchIndex?: string;
  /** Durable consumer name prefix of this replica. Default "search". */
  consumerName?: string;
  /** Where to keep a snapshot of the catalog so a restart replays only newer events; none when unset. */
  snapshotDir?: string;
  /** How often the snapshot is refreshed while running (and once more on shutdown). Default 5 minutes. */
  snapshotIntervalMs?: number;
}

/** A search service ready to serve: its definition for `serve`, the read model, and when the catalog is complete. */
export interface SearchServiceHandle {
  definition: ServiceDefinition;
  readModel: CatalogReadModel;
  /** Resolves when the start-up replay has built the catalog (with what it replayed); rejects if it failed. */
  ready: Promise<RebuildProgress>;
  /** Stops consuming and closes the index (also run by the definition's shutdown hooks). */
  stop(): Promise<void>;
}

/** The OpenSearch alias of a namespace: namespaces keep test runs and tenants apart in one cluster as on NATS. */
export function opensearchAlias(namespace: string, index = "shop-catalog"): string {
  return namespace ? `${namespace.toLowerCase()}-${index}` : index;
}

function backendOf(options: SearchServiceOptions): CatalogIndexBackend {
  const backend = options.backend ?? "embedded";
  if (typeof backend !== "string") return backend;
  if (backend === "embedded") return createEmbeddedBackend();
  return createOpenSearchBackend({
    url: options.opensearchUrl ?? "http://127.0.0.1:9200",
    alias: opensearchAlias(options.namespace, options.opensearchIndex),
    logger: options.logger,
  });
}

/**
 * Wires the search service: durable consumers feed the read model from now on, and a replay of the streams builds
 * the catalog in the background (the service reports not ready until it is done). Used by main.ts, the platform's
 * launcher and tests alike.
 */
/** A saved catalog if it still fits the streams: a stream recreated or truncated since makes it useless. */
async function usableSnapshot(options: SearchServiceOptions, dir: string): Promise<CatalogSeed | undefined> {
  const { jsm, namespace, logger } = options;
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
 * Wires the search service: durable consumers feed the read model from now on, and a replay of the streams (after
 * the snapshot, when there is one) builds the catalog in the background; the service reports not ready until it is
 * done. Used by main.ts, the platform's launcher and tests alike.
 */
export async function createSearchService(options: SearchServiceOptions): Promise<SearchServiceHandle> {
  const { js, jsm, namespace, logger, snapshotDir } = options;
  const readModel = createCatalogReadModel({ backend: backendOf(options), logger });
  const replay = createStreamReplay({ js, jsm, namespace, logger });
  const seed = snapshotDir ? await usableSnapshot(options, snapshotDir) : undefined;
  const consumers: EventConsumer[] = await startCatalogConsumers({
    js,
    jsm,
    namespace,
    logger,
    consumerName: options.consumerName ?? "search",
    apply: (event, position) => readModel.apply(event, position),
  });
  const ready = readModel.rebuild(replay, undefined, seed);
  ready.catch((err) => logger.error({ err }, "building the catalog from the streams failed"));

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
  const timer = snapshotDir ? setInterval(saveSnapshot, options.snapshotIntervalMs ?? 5 * 60_000) : undefined;
  timer?.unref();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(timer);
      for (const consumer of consumers) await consumer.stop();
      await saving;
      await saveSnapshot();
      await readModel.close();
    })();
    return stopping;
  };

  return {
    definition: {
      name: "search",
      routes: (router) => router.service(SearchService, createSearchServiceImpl({ readModel, replay })),
      isReady: () => readModel.ready,
      onShutdown: [stop],
    },
    readModel,
    ready,
    stop,
  };
}
