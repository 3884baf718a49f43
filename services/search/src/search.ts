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
import { createSearchServiceImpl } from "./service.js";
import type { CatalogIndexBackend } from "./store/catalog-index.js";
import { readCatalogSnapshot, writeCatalogSnapshot } from "./store/catalog-snapshot.js";
import { createEmbeddedBackend } from "./store/embedded/embedded-backend.js";
import { createOpenSearchBackend } from "./store/opensearch/opensearch-backend.js";

/** What tests vary about a search instance; a deployment passes none of them. */
export interface SearchOverrides {
  /** An index backend built by the caller instead of the one SHOP_SEARCH_BACKEND names. */
  backend?: CatalogIndexBackend;
}

/** A search instance: the common service shape, plus its read model and what its start-up replay built. */
export interface Search extends ShopService {
  readModel: CatalogReadModel;
  /** Resolves with what the start-up replay applied once the catalog is built; rejects if building it failed. */
  built: Promise<RebuildProgress>;
}

/** The OpenSearch alias of a namespace: namespaces keep test runs and tenants apart in one cluster as on NATS. */
export function opensearchAlias(namespace: string, index = "shop-catalog"): string {
  return namespace ? `${namespace.toLowerCase()}-${index}` : index;
}

function backendOf(platform: Platform, config: SearchConfig, overrides: SearchOverrides): CatalogIndexBackend {
  if (overrides.backend) return overrides.backend;
  if (config.SHOP_SEARCH_BACKEND === "embedded") return createEmbeddedBackend();
  return createOpenSearchBackend({
    url: config.SHOP_OPENSEARCH_URL,
    alias: opensearchAlias(config.SHOP_NAMESPACE, config.SHOP_OPENSEARCH_INDEX),
    logger: platform.logger,
  });
}

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
 */
export async function createSearch(
  platform: Platform,
  config: SearchConfig,
  overrides: SearchOverrides = {},
): Promise<Search> {
  const { js, jsm, logger } = platform;
  const namespace = config.SHOP_NAMESPACE;
  const snapshotDir = config.SHOP_SEARCH_SNAPSHOT_DIR || undefined;
  const readModel = createCatalogReadModel({ backend: backendOf(platform, config, overrides), logger });
  const replay = createStreamReplay({ js, jsm, namespace, logger });
  const seed = snapshotDir ? await usableSnapshot(platform, namespace, snapshotDir) : undefined;
  const consumers: EventConsumer[] = await startCatalogConsumers({
    js,
    jsm,
    namespace,
    logger,
    consumerName: config.SHOP_SEARCH_CONSUMER,
    apply: (event, position) => readModel.apply(event, position),
  });
  const built = readModel.rebuild(replay, undefined, seed);

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
      routes: (router) => router.service(SearchService, createSearchServiceImpl({ readModel, replay })),
      isReady: () => readModel.ready,
      onShutdown: [
        async () => {
          clearInterval(timer);
          for (const consumer of consumers) await consumer.stop();
          await saving;
          await saveSnapshot();
          await readModel.close();
        },
      ],
    },
    // Without its catalog the service would answer with partial results forever.
    built.then(() => undefined),
  );
  return { ...service, readModel, built };
}
