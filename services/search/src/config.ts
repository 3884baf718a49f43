import { hostname } from "node:os";
import { type EnvReader, int, loadConfig, oneOf, platformConfigSpec, str, url } from "@shop/platform";

/** A NATS consumer name: letters, digits, - and _ only. */
function consumerName(fallback: string): EnvReader<string> {
  return (raw, name) => {
    const value = raw || fallback;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new Error(`${name}=${value} may only use letters, digits, - and _`);
    return value;
  };
}

/** An OpenSearch index or alias name: lower case, no separators OpenSearch refuses. */
function indexName(fallback: string): EnvReader<string> {
  return (raw, name) => {
    const value = raw || fallback;
    if (!/^[a-z0-9][a-z0-9_-]{0,100}$/.test(value)) throw new Error(`${name}=${value} must be a lower-case index name`);
    return value;
  };
}

export const searchConfigSpec = {
  ...platformConfigSpec,
  SHOP_PORT: int(8082, 0, 65535),
  /** `embedded` (in-process index, the default) or `opensearch`. */
  SHOP_SEARCH_BACKEND: oneOf("embedded", ["embedded", "opensearch"] as const),
  SHOP_OPENSEARCH_URL: url("http://127.0.0.1:9200", ["http:", "https:"]),
  /** Alias customers' searches read; index versions are named `<alias>-<version>`. Prefixed by SHOP_NAMESPACE. */
  SHOP_OPENSEARCH_INDEX: indexName("shop-catalog"),
  /**
   * OpenSearch backend: an event applied by the index writer is searchable within this many milliseconds; the writer
   * refreshes the index about once per interval while events flow, at once after a quiet spell.
   */
  SHOP_OPENSEARCH_REFRESH_INTERVAL_MS: int(1_000, 100, 600_000),
  /**
   * Durable consumer name prefix (default `search-<host name>`). Each replica keeps its own read model, so each
   * process adds a random suffix: replicas started with the same value never share a durable.
   */
  SHOP_SEARCH_CONSUMER: consumerName(
    `search-${hostname()
      .replace(/[^A-Za-z0-9_-]/g, "-")
      .slice(0, 40)}`,
  ),
  /**
   * OpenSearch backend: how long the index writer lease lasts unrenewed. One replica holds it and writes the shared
   * index; when it dies another takes over after at most this long (at once when it stops cleanly).
   */
  SHOP_SEARCH_WRITER_LEASE_S: int(15, 2, 600),
  /** Where the catalog is snapshotted so a restart replays only newer events; empty = replay everything. */
  SHOP_SEARCH_SNAPSHOT_DIR: str(""),
  SHOP_SEARCH_SNAPSHOT_INTERVAL_S: int(300, 5, 86_400),
};

export type SearchConfig = ReturnType<typeof loadSearchConfig>;

/** Reads and validates the search service's environment; a bad value stops the start with every problem listed. */
export function loadSearchConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(searchConfigSpec, env);
}
