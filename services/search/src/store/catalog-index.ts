import type { StoredProduct } from "../domain/catalog-product.js";
import type { CatalogQuery, CatalogResult } from "../domain/catalog-query.js";

/** One version of the index: filled by a rebuild or live events, served once activated. */
export interface CatalogIndexVersion {
  /** Unique name, e.g. "v1733412345678-3"; OpenSearch index names end with it. */
  readonly name: string;
  /**
   * Records changed and removed products. Never blocks: the embedded index applies them at once, OpenSearch batches
   * them into bulk requests. The stored encodings are never changed in place: a new one comes with each change.
   * `storedAtMs` is when JetStream stored the live event behind them (ms since the epoch): a writer that makes changes
   * searchable within a promised interval counts from then, so the time the event took to reach it is included.
   */
  write(upserts: readonly StoredProduct[], removals: readonly string[], storedAtMs?: number): void;
  /** Resolves once everything written so far is searchable. */
  refresh(): Promise<void>;
}

export interface IndexStats {
  backend: string;
  activeVersion: string;
  documents: number;
  /** Estimated bytes the index holds in this process (embedded) or on disk (OpenSearch store size). */
  bytes: number;
}

/**
 * Where the catalog is indexed. Both implementations pass one behavioural suite (test/catalog-behaviour.ts): same
 * matching, filters, sorts, facets and cursor paging, so which one runs is a deployment choice.
 */
export interface CatalogIndexBackend {
  readonly kind: "embedded" | "opensearch";
  /** A new, empty version; not served until activated. */
  createVersion(): Promise<CatalogIndexVersion>;
  /** Serves `version` from now on (an atomic alias swap in OpenSearch) and drops the one served before. */
  activate(version: CatalogIndexVersion): Promise<void>;
  /** Drops a version that will never be activated (a failed rebuild). */
  discard(version: CatalogIndexVersion): Promise<void>;
  /** Whether some version is served (e.g. one left in OpenSearch by the previous run). */
  hasActive(): Promise<boolean>;
  /** Runs a query on the active version. */
  search(query: CatalogQuery): Promise<CatalogResult>;
  /** A listed product of the active version, as its CatalogProduct encoding. */
  getEncoded(id: string): Promise<Uint8Array | undefined>;
  stats(): Promise<IndexStats>;
  close(): Promise<void>;
}
