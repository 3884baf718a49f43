// The OpenSearch index writer owns visibility (issue 13): a write is searchable within the refresh interval of reaching
// the writer, and the writer refreshes the index about once per interval while writes flow. The index's own periodic
// refresh is a backstop longer than the interval, so within one interval only the writer can make a write visible.
// Real OpenSearch node; refreshes counted by OpenSearch itself (the index's refresh stats).
import { randomBytes } from "node:crypto";
import { Client } from "@opensearch-project/opensearch";
import { createLogger } from "@shop/platform";
import { waitFor } from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSearchForTests } from "../../../test/support/opensearch/opensearch-node.js";
import {
  type CatalogIndexBackend,
  type CatalogIndexVersion,
  CatalogProjection,
  createOpenSearchBackend,
} from "../src/internal.js";
import { productCreated } from "./support/catalog-events.js";

const openSearch = await openSearchForTests();

describe.skipIf(!openSearch)("OpenSearch index writer refreshing", () => {
  const prefix = `t${randomBytes(4).toString("hex")}`;
  const backends: CatalogIndexBackend[] = [];
  let os: Client;

  beforeAll(() => {
    os = new Client({ node: openSearch?.url as string });
  });

  afterAll(async () => {
    for (const backend of backends) await backend.close();
    await os?.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true });
    await os?.close();
  });

  /** A new, empty index version whose writer promises `refreshIntervalMs`, and a projection to write it from. */
  async function freshVersion(refreshIntervalMs: number) {
    const backend = createOpenSearchBackend({
      url: openSearch?.url as string,
      alias: `${prefix}-refresh-${backends.length + 1}`,
      logger: createLogger("test", "silent"),
      refreshIntervalMs,
    });
    backends.push(backend);
    const version = await backend.createVersion();
    const projection = new CatalogProjection();
    /** Hands a new product to the writer, as a live event would; returns when it did. */
    const create = (id: string, title: string): number => {
      const change = projection.apply(productCreated({ id, title, price: 1000 }));
      version.write(change.upserts, change.removals);
      return performance.now();
    };
    return { version, create };
  }

  /** The ids a search of the version finds now. */
  async function searchable(version: CatalogIndexVersion): Promise<Set<string>> {
    const response = await os.search({
      index: version.name,
      body: { size: 1_000, _source: false, query: { match_all: {} } } as never,
    });
    return new Set((response.body as { hits: { hits: Array<{ _id: string }> } }).hits.hits.map((hit) => hit._id));
  }

  /** How many times OpenSearch refreshed the version (its own periodic refreshes included), by its stats. */
  async function refreshesOf(version: CatalogIndexVersion): Promise<number> {
    const response = await os.indices.stats({ index: version.name, metric: ["refresh"] });
    return (response.body as { _all: { primaries: { refresh: { external_total: number } } } })._all.primaries.refresh
      .external_total;
  }

  /** The index's own `refresh_interval`, in ms. */
  async function ownRefreshIntervalMs(version: CatalogIndexVersion): Promise<number> {
    const response = await os.indices.getSettings({ index: version.name });
    const [index] = Object.values(
      response.body as Record<string, { settings: { index: { refresh_interval: string } } }>,
    );
    const parsed = /^(\d+)(ms|s)$/.exec(index?.settings.index.refresh_interval ?? "");
    return parsed ? Number(parsed[1]) * (parsed[2] === "s" ? 1_000 : 1) : Number.NaN;
  }

  it("makes a write to a quiet index searchable at once, not an interval later, and not again until one passes", async () => {
    const intervalMs = 20_000;
    const { version, create } = await freshVersion(intervalMs);
    // Within the interval the index does not refresh by itself: only the writer can make a write visible that soon.
    expect(await ownRefreshIntervalMs(version)).toBeGreaterThan(intervalMs);
    const before = await refreshesOf(version);

    create("quiet1", "Quiet Kettle");
    await waitFor(async () => (await searchable(version)).has("quiet1"), intervalMs / 4, "the quiet write searchable");
    expect(await refreshesOf(version)).toBe(before + 1);

    // The index is not quiet any more: the next write waits for its deadline rather than a refresh of its own.
    create("busy1", "Busy Kettle");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await searchable(version)).toEqual(new Set(["quiet1"]));
    expect(await refreshesOf(version)).toBe(before + 1);

    // An explicit refresh (before a version is served, at close) still makes everything searchable at once.
    await version.refresh();
    expect(await searchable(version)).toEqual(new Set(["quiet1", "busy1"]));
  });

  it("makes every write of a steady flow searchable within the interval, refreshing about once per interval", async () => {
    const intervalMs = 3_000;
    const flowMs = 12_000;
    const { version, create } = await freshVersion(intervalMs);
    const before = await refreshesOf(version);
    const written = new Map<string, number>();
    const seen = new Map<string, number>();

    const flowEnds = performance.now() + flowMs;
    const pollEnds = flowEnds + 2 * intervalMs;
    let flowing = true;
    const poll = (async () => {
      while ((flowing || seen.size < written.size) && performance.now() < pollEnds) {
        const found = await searchable(version);
        const now = performance.now();
        for (const id of found) if (!seen.has(id)) seen.set(id, now);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    for (let n = 0; performance.now() < flowEnds; n++) {
      const id = `flow${n}`;
      written.set(id, create(id, `Flow Teapot ${n}`));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    flowing = false;
    await poll;

    expect([...written.keys()].filter((id) => !seen.has(id))).toEqual([]);
    const delays = [...written].map(([id, at]) => (seen.get(id) as number) - at);
    // Timers and searches on a busy machine run late: a generous tolerance, but a write must not wait a second interval.
    expect(Math.max(...delays)).toBeLessThan(intervalMs * 1.5);
    // One at once (the index was quiet), then one per interval less the margin (at most a quarter of it), one last.
    const refreshes = (await refreshesOf(version)) - before;
    expect(refreshes).toBeGreaterThanOrEqual(Math.floor(flowMs / intervalMs) - 1);
    expect(refreshes).toBeLessThanOrEqual(Math.ceil(flowMs / (0.75 * intervalMs)) + 2);
  }, 60_000);
});
