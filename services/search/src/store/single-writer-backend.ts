import type { Logger } from "@shop/platform";
import type { CatalogIndexBackend, CatalogIndexVersion } from "./catalog-index.js";
import type { IndexWriterLease } from "./index-writer-lease.js";

/** A shared index backend that only the lease holder writes to; `swaps` counts the versions this replica activated. */
export interface SingleWriterBackend extends CatalogIndexBackend {
  readonly lease: IndexWriterLease;
  readonly swaps: number;
}

/**
 * Lets several replicas share one index (OpenSearch): every replica keeps its own projection and reads the shared
 * alias, but only the lease holder creates versions, writes documents and swaps the alias. A replica without the lease
 * gets a read-only version that drops its writes and that "activates" by waiting until the alias exists, so its read
 * model serves the writer's index. Writes are checked against the lease one by one: a holder that lost the lease
 * stops writing at once, and its build is dropped instead of swapped in.
 */
export function createSingleWriterBackend(
  inner: CatalogIndexBackend,
  lease: IndexWriterLease,
  options: { logger: Logger; pollMs?: number },
): SingleWriterBackend {
  const { logger } = options;
  const pollMs = options.pollMs ?? 200;
  const real = new Map<CatalogIndexVersion, CatalogIndexVersion>();
  let readOnlyVersions = 0;
  let swaps = 0;
  let closed = false;

  const readOnlyVersion = (): CatalogIndexVersion => ({
    name: `read-only-${++readOnlyVersions}`,
    write() {},
    // What this replica applies is written by the lease holder, which it cannot wait for.
    refresh: async () => undefined,
  });

  const untilServed = async () => {
    while (!(await inner.hasActive())) {
      if (closed) throw new Error("search is stopping; the shared index was never served");
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };

  return {
    kind: inner.kind,
    lease,
    get swaps() {
      return swaps;
    },

    async createVersion() {
      if (!lease.held) return readOnlyVersion();
      const version = await inner.createVersion();
      const guarded: CatalogIndexVersion = {
        name: version.name,
        write(upserts, removals, storedAtMs) {
          if (lease.held) version.write(upserts, removals, storedAtMs);
        },
        refresh: () => version.refresh(),
      };
      real.set(guarded, version);
      return guarded;
    },

    async activate(version) {
      // A build still running while search stops must not swap a half-filled index in.
      if (closed) throw new Error("search is stopping; the new index version is not served");
      const built = real.get(version);
      if (built && lease.held) {
        await inner.activate(built);
        real.delete(version);
        swaps++;
        return;
      }
      if (built) {
        logger.warn({ index: version.name }, "index writer lease lost during the build; serving the holder's index");
        real.delete(version);
        await inner.discard(built).catch(() => undefined);
      }
      await untilServed();
    },

    async discard(version) {
      const built = real.get(version);
      real.delete(version);
      if (built) await inner.discard(built);
    },

    hasActive: () => inner.hasActive(),
    search: (query) => inner.search(query),
    getEncoded: (id) => inner.getEncoded(id),
    stats: () => inner.stats(),

    async close() {
      closed = true;
      await inner.close();
    },
  };
}
