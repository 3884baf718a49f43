import type { CatalogQuery, CatalogResult } from "../../domain/catalog-query.js";
import type { CatalogIndexBackend, CatalogIndexVersion, IndexStats } from "../catalog-index.js";
import { EmbeddedCatalogIndex } from "./embedded-index.js";

/**
 * The zero-setup backend: index versions live in this process and activating one is a pointer swap, so a rebuild
 * serves the previous version until the new one is complete.
 */
export function createEmbeddedBackend(): CatalogIndexBackend {
  let active: EmbeddedCatalogIndex | undefined;
  let sequence = 0;
  const own = (version: CatalogIndexVersion): EmbeddedCatalogIndex => {
    if (!(version instanceof EmbeddedCatalogIndex)) throw new Error(`${version.name} is not an embedded index`);
    return version;
  };
  return {
    kind: "embedded",
    async createVersion() {
      return new EmbeddedCatalogIndex(`v${Date.now()}-${++sequence}`);
    },
    async activate(version) {
      active = own(version);
    },
    async discard() {},
    async hasActive() {
      return active !== undefined;
    },
    async search(query: CatalogQuery): Promise<CatalogResult> {
      if (!active)
        return { hits: [], total: 0, facets: query.facets.map((name) => ({ name, values: [] })), hasMore: false };
      return active.search(query);
    },
    async getEncoded(id: string): Promise<Uint8Array | undefined> {
      return active?.getEncoded(id);
    },
    async stats(): Promise<IndexStats> {
      return {
        backend: "embedded",
        activeVersion: active?.name ?? "",
        documents: active?.size ?? 0,
        bytes: active?.bytes ?? 0,
      };
    },
    async close() {
      active = undefined;
    },
  };
}
