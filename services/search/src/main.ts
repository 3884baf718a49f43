import { createPlatform, exitOnSignals, loadConfigOrExit } from "@shop/platform";
import { loadSearchConfig } from "./config.js";
import { createSearchService } from "./search-service.js";

const config = loadConfigOrExit("search", loadSearchConfig);

const platform = await createPlatform("search", config);
const search = await createSearchService({
  js: platform.js,
  jsm: platform.jsm,
  namespace: config.SHOP_NAMESPACE,
  logger: platform.logger,
  backend: config.SHOP_SEARCH_BACKEND,
  opensearchUrl: config.SHOP_OPENSEARCH_URL,
  opensearchIndex: config.SHOP_OPENSEARCH_INDEX,
  consumerName: config.SHOP_SEARCH_CONSUMER,
  snapshotDir: config.SHOP_SEARCH_SNAPSHOT_DIR || undefined,
  snapshotIntervalMs: config.SHOP_SEARCH_SNAPSHOT_INTERVAL_S * 1000,
});
const running = await platform.serve(search.definition);
exitOnSignals(running, platform.logger);
// Without its catalog the service would answer with partial results forever: stop and let the supervisor retry.
search.ready.catch(() => {
  void running.shutdown().finally(() => process.exit(1));
});
