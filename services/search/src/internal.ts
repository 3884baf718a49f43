// What only bench/ and test/ may use of the search service (`@shop/search/internal`); other packages use index.ts.
export type {
  CatalogEventSource,
  CatalogReadModel,
  CatalogSeed,
  EventPosition,
  RebuildProgress,
  ResponseForm,
  StreamPositions,
} from "./catalog-read-model.js";
export { createCatalogReadModel } from "./catalog-read-model.js";
export type { CatalogEvent, ProjectionRecord } from "./domain/catalog-projection.js";
export { CatalogProjection } from "./domain/catalog-projection.js";
export type {
  CatalogFacet,
  CatalogFilter,
  CatalogHit,
  CatalogQuery,
  CatalogResult,
  CatalogSort,
} from "./domain/catalog-query.js";
export { matchesFilter, priceBucketOf, priceBuckets } from "./domain/catalog-query.js";
export { prepareSearch } from "./domain/search-request.js";
export { analyze, foldText, stem, tokenize } from "./domain/text-analysis.js";
export { opensearchAlias } from "./search.js";
export type { CatalogIndexBackend, CatalogIndexVersion, IndexStats } from "./store/catalog-index.js";
export { readCatalogSnapshot, writeCatalogSnapshot } from "./store/catalog-snapshot.js";
export { createEmbeddedBackend } from "./store/embedded/embedded-backend.js";
export { createOpenSearchBackend } from "./store/opensearch/opensearch-backend.js";
export { searchBody } from "./store/opensearch/opensearch-query.js";
