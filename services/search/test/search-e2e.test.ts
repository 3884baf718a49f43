// The search service end to end on real NATS: contract events published on their streams → durable consumers →
// read model → SearchService over Connect. The products and inventory services are stood in for by publishing their
// contract events directly.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";
import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import {
  CollectionChangedSchema,
  ProductArchivedSchema,
  ProductCreatedSchema,
  ProductUpdatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import {
  type SearchProductsResponse,
  SearchService,
  SortOrder,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createLogger, createPlatform, namespacedStream, type RunningService } from "@shop/platform";
import {
  clientFor,
  createTestEnv,
  createTestKeys,
  openTestJetStream,
  type TestEnv,
  type TestJetStream,
  type TestKeys,
} from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSearchForTests } from "../../../test/support/opensearch/opensearch-node.js";
import { createSearch, loadSearchConfig, type Search } from "../src/index.js";
import { opensearchAlias, type RebuildProgress } from "../src/internal.js";
import {
  collectionChanged,
  minutesAfterBase,
  type ProductSpec,
  productArchived,
  productCreated,
  productUpdated,
  stockChanged,
} from "./support/catalog-events.js";

const openSearch = await openSearchForTests();

async function eventually<T>(read: () => Promise<T>, until: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${String(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const ids = (response: SearchProductsResponse) => response.hits.map((hit) => hit.product?.id);

/** What a customer sees, without scores (which depend on corpus statistics, not on delivery). */
const view = (response: SearchProductsResponse) => ({
  total: response.totalSize,
  hits: response.hits.map((hit) => [hit.product?.id, hit.product?.title, hit.product?.available]),
  facets: response.facets.map((facet) => [facet.name, facet.values.map((v) => [v.value, v.count])]),
});

const backends = [
  { name: "embedded", backend: "embedded" as const },
  ...(openSearch ? [{ name: "OpenSearch", backend: "opensearch" as const }] : []),
];

describe.each(backends)("search service on $name", ({ backend }) => {
  let env: TestEnv;
  let nats: TestJetStream;
  let service: { handle: Search; running: RunningService & { keys: TestKeys }; built: RebuildProgress };
  let search: Client<typeof SearchService>;
  const opensearchIndex = `catalog-${randomBytes(3).toString("hex")}`;

  const publish = <Desc extends DescMessage>(schema: Desc, event: MessageShape<Desc>) =>
    nats.events.publish(schema, event);

  async function startSearch(snapshotDir?: string) {
    const config = loadSearchConfig({
      ...env.serviceEnv,
      SHOP_PORT: "0",
      SHOP_SEARCH_BACKEND: backend,
      SHOP_OPENSEARCH_URL: openSearch?.url,
      SHOP_OPENSEARCH_INDEX: opensearchIndex,
      SHOP_SEARCH_CONSUMER: "search-e2e",
      SHOP_SEARCH_SNAPSHOT_DIR: snapshotDir,
    });
    const platform = await createPlatform("search", config, { logger: createLogger("search-e2e", "silent") });
    const handle = await createSearch(platform, config);
    const running = { ...(await handle.start()), keys: createTestKeys(platform.apiKeys) };
    const built = await handle.built;
    return { handle, running, built };
  }

  beforeAll(async () => {
    env = await createTestEnv();
    nats = await openTestJetStream(env);
    // Some history before the service starts: the start-up replay must pick it up.
    await publish(CollectionChangedSchema, collectionChanged({ id: "c-kitchen", handle: "kitchen", title: "Kitchen" }));
    for (let i = 1; i <= 5; i++) {
      await publish(
        ProductCreatedSchema,
        productCreated({
          id: `old${i}`,
          title: `Vintage Mug ${i}`,
          price: 1000 + i * 100,
          tags: ["vintage"],
          collections: ["c-kitchen"],
          created: minutesAfterBase(i),
        }),
      );
      await publish(StockChangedSchema, stockChanged(`old${i}-1`, i, 1));
    }
    service = await startSearch();
    search = clientFor(SearchService, service.running.url);
  });

  afterAll(async () => {
    await service?.handle.stop();
    await nats?.close();
    await env?.cleanup();
    if (backend === "opensearch" && openSearch) {
      const client = new OpenSearchClient({ node: openSearch.url });
      await client.indices.delete({
        index: `${opensearchAlias(env.namespace, opensearchIndex)}*`,
        ignore_unavailable: true,
      });
      await client.close();
    }
  });

  it("builds the catalog from the streams at start", async () => {
    const result = await search.searchProducts({ query: "vintage mug", sort: SortOrder.PRICE_ASC });
    expect(ids(result)).toEqual(["old1", "old2", "old3", "old4", "old5"]);
    expect(result.hits.map((hit) => hit.product?.available)).toEqual([1n, 2n, 3n, 4n, 5n]);
    const collections = await search.listCollections({});
    expect(collections.collections.map((c) => [c.handle, c.productCount])).toEqual([["kitchen", 5n]]);
  });

  it("makes a published product searchable, and a stock change visible", async () => {
    const kettle: ProductSpec = { id: "kettle", title: "Copper Kettle", price: 4900, collections: ["c-kitchen"] };
    await publish(ProductCreatedSchema, productCreated(kettle));
    const found = await eventually(
      () => search.searchProducts({ query: "kettle" }),
      (r) => r.hits.length === 1,
    );
    expect(found.hits[0]?.product?.available).toBe(0n);

    await publish(StockChangedSchema, stockChanged("kettle-1", 12, 1));
    const restocked = await eventually(
      () => search.searchProducts({ query: "kettle", filter: { inStockOnly: true } }),
      (r) => r.hits.length === 1,
    );
    expect(restocked.hits[0]?.product?.available).toBe(12n);
    expect((await search.getProduct({ id: "kettle" })).available).toBe(12n);
  });

  it("changes nothing on a duplicate or stale event", async () => {
    const spec: ProductSpec = { id: "teacup", title: "Teacup Classic", price: 800 };
    await publish(ProductCreatedSchema, productCreated(spec, 1));
    const current = productUpdated({ ...spec, title: "Teacup Deluxe" }, 3);
    await publish(ProductUpdatedSchema, current);
    await publish(ProductUpdatedSchema, current); // same event id: stored once by JetStream
    await publish(ProductUpdatedSchema, productUpdated({ ...spec, title: "Teacup Stale" }, 2));
    await publish(ProductUpdatedSchema, productUpdated({ ...spec, title: "Teacup Again" }, 3));
    await publish(StockChangedSchema, stockChanged("teacup-1", 7, 4));
    await publish(StockChangedSchema, stockChanged("teacup-1", 1, 3));
    await publish(StockChangedSchema, stockChanged("teacup-1", 2, 4));
    // Markers published after them on both streams: once they show, the earlier events were consumed.
    await publish(ProductCreatedSchema, productCreated({ id: "marker", title: "Marker Saucer", price: 100 }));
    await publish(StockChangedSchema, stockChanged("marker-1", 3, 1));
    await eventually(
      () => search.searchProducts({ query: "saucer", filter: { inStockOnly: true } }),
      (r) => r.hits.length === 1,
    );
    const teacup = await eventually(
      () => search.getProduct({ id: "teacup" }).catch(() => undefined),
      (p) => p !== undefined,
    );
    expect(teacup?.title).toBe("Teacup Deluxe");
    expect(teacup?.available).toBe(7n);
    expect(ids(await search.searchProducts({ query: "teacup stale" }))).toEqual([]);
  });

  it("hides archived products", async () => {
    const spec: ProductSpec = { id: "old5", title: "Vintage Mug 5", price: 1500 };
    await publish(ProductArchivedSchema, productArchived(spec, 2));
    await eventually(
      () => search.searchProducts({ query: "vintage" }),
      (r) => r.totalSize === 4n,
    );
    const error = await search.getProduct({ id: "old5" }).catch((err: unknown) => ConnectError.from(err));
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it("rebuilds on Reindex with streamed progress while searches keep working", async () => {
    const before = await search.searchProducts({ facets: ["collections"], pageSize: 100 });
    const operator = clientFor(SearchService, service.running.url, { credential: service.running.keys.operator });
    let searching = true;
    const totals: bigint[] = [];
    const searches = (async () => {
      while (searching) totals.push((await search.searchProducts({ pageSize: 1 })).totalSize);
    })();
    const progress = [];
    for await (const step of operator.reindex({})) progress.push(step);
    searching = false;
    await searches;

    const last = progress.at(-1);
    expect(last?.done).toBe(true);
    expect(last?.eventsApplied).toBe(last?.eventsTotal);
    expect(last?.eventsTotal).toBeGreaterThan(10n);
    expect(last?.indexVersion).not.toBe("");
    expect(totals.length).toBeGreaterThan(0);
    expect(totals.every((total) => total === before.totalSize)).toBe(true);
    expect(view(await search.searchProducts({ facets: ["collections"], pageSize: 100 }))).toEqual(view(before));
  });

  it("refuses Reindex to callers who are not operators", async () => {
    const customer = clientFor(SearchService, service.running.url, { credential: service.running.keys.customer });
    const error = await (async () => {
      for await (const _ of customer.reindex({})) return undefined;
    })().catch((err: unknown) => ConnectError.from(err));
    expect((error as ConnectError).code).toBe(Code.PermissionDenied);
  });

  it("converges to the same results when restarted from empty", async () => {
    const queries = [
      { query: "", facets: ["tags", "collections", "price"], pageSize: 100 },
      { query: "mug", sort: SortOrder.PRICE_DESC, pageSize: 100 },
      { query: "", filter: { inStockOnly: true }, sort: SortOrder.TITLE, pageSize: 100 },
    ];
    const before = await Promise.all(queries.map((q) => search.searchProducts(q)));
    const durables = async () => {
      const names: string[] = [];
      for (const stream of ["PRODUCTS", "INVENTORY"]) {
        for await (const info of nats.jsm.consumers.list(namespacedStream(env.namespace, stream))) {
          if (info.name.includes("search-e2e-")) names.push(info.name);
        }
      }
      return names;
    };
    expect(await durables()).not.toEqual([]);
    await service.handle.stop();
    // The stopped process's own durables are gone, not left to idle out.
    expect(await durables()).toEqual([]);

    service = await startSearch();
    search = clientFor(SearchService, service.running.url);
    const after = await Promise.all(queries.map((q) => search.searchProducts(q)));
    expect(after.map(view)).toEqual(before.map(view));
    expect((await search.getProduct({ id: "kettle" })).available).toBe(12n);
  });

  it("restarts from its snapshot and replays only the events that came after it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "search-snapshot-"));
    try {
      await service.handle.stop();
      service = await startSearch(dir);
      await service.handle.stop(); // writes the snapshot
      // While search is down, the catalog moves on.
      await publish(ProductCreatedSchema, productCreated({ id: "late", title: "Latecomer Ladle", price: 700 }));
      await publish(StockChangedSchema, stockChanged("late-1", 9, 1));
      await publish(StockChangedSchema, stockChanged("kettle-1", 11, 2));

      service = await startSearch(dir);
      search = clientFor(SearchService, service.running.url);
      expect(service.built.total).toBe(3);
      expect((await search.searchProducts({ query: "ladle" })).hits[0]?.product?.available).toBe(9n);
      expect((await search.getProduct({ id: "kettle" })).available).toBe(11n);
      expect((await search.searchProducts({ query: "vintage" })).totalSize).toBe(4n);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
