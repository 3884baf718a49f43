// Search replicas sharing one OpenSearch alias (issue 11): exactly one of them, the holder of the index writer lease,
// writes documents, builds index versions and swaps the alias; the others keep their own projection and read the
// shared index. Real NATS and a real OpenSearch node; one replica is a real process killed with SIGKILL.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { Client as OpenSearchClient } from "@opensearch-project/opensearch";
import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import {
  CollectionChangedSchema,
  ProductCreatedSchema,
  ProductUpdatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import {
  type ReindexProgress,
  type SearchProductsResponse,
  SearchService,
  SortOrder,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createLogger, createPlatform } from "@shop/platform";
import {
  clientFor,
  createTestEnv,
  createTestKeys,
  freePort,
  openTestJetStream,
  type TestEnv,
  type TestJetStream,
  waitFor,
} from "@shop/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSearchForTests } from "../../../test/support/opensearch/opensearch-node.js";
import { createSearch, loadSearchConfig, type Search } from "../src/index.js";
import { opensearchAlias } from "../src/internal.js";
import { collectionChanged, productCreated, productUpdated, stockChanged } from "./support/catalog-events.js";

const openSearch = await openSearchForTests();
const root = join(import.meta.dirname, "..", "..", "..");
/** Short, so a killed holder's lease lapses quickly; the holder renews every third of it. */
const leaseSeconds = "3";

interface Replica {
  handle: Search;
  search: Client<typeof SearchService>;
  operator: Client<typeof SearchService>;
}

const view = (response: SearchProductsResponse) => ({
  total: response.totalSize,
  hits: response.hits.map((hit) => [hit.product?.id, hit.product?.title, hit.product?.available]),
});
const everything = { pageSize: 100, sort: SortOrder.TITLE, facets: ["collections"] };

describe.skipIf(!openSearch)("search replicas sharing an OpenSearch alias", () => {
  let env: TestEnv;
  let nats: TestJetStream;
  let os: OpenSearchClient;
  const replicas: Replica[] = [];
  const children = new Set<ChildProcess>();
  const indexNames: string[] = [];

  const publish = <Desc extends DescMessage>(schema: Desc, event: MessageShape<Desc>) =>
    nats.events.publish(schema, event);

  const searchEnv = (index: string, consumer: string) => ({
    ...env.serviceEnv,
    SHOP_SEARCH_BACKEND: "opensearch",
    SHOP_OPENSEARCH_URL: openSearch?.url as string,
    SHOP_OPENSEARCH_INDEX: index,
    SHOP_SEARCH_CONSUMER: consumer,
    SHOP_SEARCH_WRITER_LEASE_S: leaseSeconds,
  });

  async function startReplica(index: string, consumer: string): Promise<Replica> {
    const config = loadSearchConfig({ ...searchEnv(index, consumer), SHOP_PORT: "0" });
    const platform = await createPlatform("search", config, { logger: createLogger(consumer, "silent") });
    const handle = await createSearch(platform, config);
    const running = await handle.start();
    const keys = createTestKeys(platform.apiKeys);
    const replica = {
      handle,
      search: clientFor(SearchService, running.url),
      operator: clientFor(SearchService, running.url, { credential: keys.operator }),
    };
    replicas.push(replica);
    return replica;
  }

  async function stopReplica(replica: Replica): Promise<void> {
    replicas.splice(replicas.indexOf(replica), 1);
    await replica.handle.stop();
  }

  /** `services/search/src/main.ts` as a process of its own, ready once /readyz answers 200. */
  async function startReplicaProcess(index: string, consumer: string) {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", join("services", "search", "src", "main.ts")], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...searchEnv(index, consumer), SHOP_PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.add(child);
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-2_000);
    });
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        children.delete(child);
        resolve();
      });
    });
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
      `search process ready (${stderr})`,
    );
    return { child, exited };
  }

  /** The index versions of an alias that exist in OpenSearch, and the one the alias points at. */
  async function versionsOf(alias: string): Promise<{ indices: string[]; served: string[] }> {
    const indices = Object.keys((await os.indices.get({ index: `${alias}-*` })).body as object).sort();
    const exists = (await os.indices.existsAlias({ name: alias })).body;
    const served = exists ? Object.keys((await os.indices.getAlias({ name: alias })).body as object) : [];
    return { indices, served };
  }

  /** OpenSearch's own count of writes per document (`_version`), by product id. */
  async function documentVersions(alias: string, ids: string[]): Promise<Record<string, number>> {
    const response = await os.search({
      index: alias,
      body: { size: ids.length, version: true, _source: false, query: { ids: { values: ids } } } as never,
    });
    const hits = (response.body as { hits: { hits: Array<{ _id: string; _version: number }> } }).hits.hits;
    return Object.fromEntries(hits.map((hit) => [hit._id, hit._version]));
  }

  async function untilBothShow(query: string, total: number): Promise<void> {
    await waitFor(
      async () => {
        const results = await Promise.all(replicas.map((r) => r.search.searchProducts({ query, pageSize: 1 })));
        return results.every((result) => result.totalSize === BigInt(total));
      },
      30_000,
      `both replicas find ${total} products for "${query}"`,
    );
  }

  const writerOf = (among: Replica[]) => among.filter((r) => r.handle.indexWriter?.lease.held);

  beforeAll(async () => {
    env = await createTestEnv();
    nats = await openTestJetStream(env);
    os = new OpenSearchClient({ node: openSearch?.url as string });
    await publish(CollectionChangedSchema, collectionChanged({ id: "c-tea", handle: "tea", title: "Tea" }));
    // A build replays stock before products and joins it when each product comes, so each seeded document is
    // written exactly once, whenever the bulk writer flushes.
    for (let i = 1; i <= 30; i++) await publish(StockChangedSchema, stockChanged(`seed${i}-1`, i, 1));
    for (let i = 1; i <= 30; i++) {
      const spec = { id: `seed${i}`, title: `Seed Teapot ${i}`, price: 1000 + i, collections: ["c-tea"] };
      await publish(ProductCreatedSchema, productCreated(spec));
    }
  });

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    for (const replica of [...replicas]) await stopReplica(replica);
    await nats?.close();
    await env?.cleanup();
    for (const index of indexNames) {
      await os?.indices.delete({ index: `${opensearchAlias(env.namespace, index)}*`, ignore_unavailable: true });
    }
    await os?.close();
  });

  describe("two replicas in process", () => {
    const index = `catalog-${randomBytes(3).toString("hex")}`;
    let alias: string;
    let a: Replica;
    let b: Replica;

    beforeAll(async () => {
      indexNames.push(index);
      alias = opensearchAlias(env.namespace, index);
      // Same configuration for both, as a deployment scaling one service would give them.
      [a, b] = await Promise.all([startReplica(index, "search"), startReplica(index, "search")]);
      await Promise.all([a.handle.built, b.handle.built]);
    });

    it("starts on an empty cluster with one index version, built and swapped in by the lease holder alone", async () => {
      const { indices, served } = await versionsOf(alias);
      expect(indices).toHaveLength(1);
      expect(served).toEqual(indices);
      // Each seeded product was indexed once: by one replica, not by both.
      const versions = await documentVersions(alias, ["seed1", "seed15", "seed30"]);
      expect(versions).toEqual({ seed1: 1, seed15: 1, seed30: 1 });

      const writers = writerOf([a, b]);
      expect(writers).toHaveLength(1);
      const writer = writers[0] as Replica;
      const reader = writer === a ? b : a;
      expect(indices).toEqual([(await writer.handle.built).version]);
      expect(await writer.handle.indexWriter?.lease.holder()).toBe(writer.handle.indexWriter?.lease.owner);
      expect(writer.handle.indexWriter?.swaps).toBe(1);
      expect(reader.handle.indexWriter?.swaps).toBe(0);
      for (const replica of [a, b]) {
        const result = await replica.search.searchProducts({ query: "teapot", pageSize: 1 });
        expect(result.totalSize).toBe(30n);
        const collections = await replica.search.listCollections({});
        expect(collections.collections.map((c) => [c.handle, c.productCount])).toEqual([["tea", 30n]]);
      }
    });

    it("applies every live event once to the shared index, and both replicas answer alike", async () => {
      const ids = Array.from({ length: 8 }, (_, i) => `live${i}`);
      for (const id of ids)
        await publish(ProductCreatedSchema, productCreated({ id, title: `Live Kettle ${id}`, price: 500 }));
      await untilBothShow("kettle", ids.length);
      for (const id of ids) {
        await publish(ProductUpdatedSchema, productUpdated({ id, title: `Live Kettle ${id} Copper`, price: 500 }, 2));
      }
      await untilBothShow("copper", ids.length);
      // Two events per product, each written once; with both replicas writing, every document would be at 4.
      const versions = await documentVersions(alias, ids);
      expect(Object.values(versions)).toEqual(ids.map(() => 2));
      const [fromA, fromB] = await Promise.all([
        a.search.searchProducts(everything),
        b.search.searchProducts(everything),
      ]);
      expect(view(fromA)).toEqual(view(fromB));
    });

    it("reindexes through the replica without the lease: one new version, one swap, nothing lost meanwhile", async () => {
      const writer = writerOf([a, b])[0] as Replica;
      const reader = writer === a ? b : a;
      const before = await versionsOf(alias);
      const swapsBefore = writer.handle.indexWriter?.swaps ?? 0;
      // History enough that the rebuild lasts a while: stock moves of the seeded products, 100 at a time.
      for (let round = 0; round < 20; round++) {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            publish(
              StockChangedSchema,
              stockChanged(`seed${(i % 30) + 1}-1`, 40 + round, 2 + round * 4 + Math.floor(i / 30)),
            ),
          ),
        );
      }

      const during = Array.from({ length: 20 }, (_, i) => `during${i}`);
      let publishing: Promise<void> | undefined;
      const progress: ReindexProgress[] = [];
      for await (const step of reader.operator.reindex({})) {
        progress.push(step);
        // Published once the rebuild has begun: they reach the old version and the one being built alike.
        publishing ??= (async () => {
          for (const id of during) {
            await publish(ProductCreatedSchema, productCreated({ id, title: `Mid Reindex Ladle ${id}`, price: 300 }));
          }
        })();
      }
      await publishing;

      const last = progress.at(-1);
      expect(last?.done).toBe(true);
      expect(last?.eventsApplied).toBe(last?.eventsTotal);
      const after = await versionsOf(alias);
      expect(after.indices).toEqual([last?.indexVersion]);
      expect(after.served).toEqual([last?.indexVersion]);
      expect(before.indices).not.toContain(last?.indexVersion);
      expect(writer.handle.indexWriter?.swaps).toBe(swapsBefore + 1);
      expect(reader.handle.indexWriter?.swaps).toBe(0);

      await untilBothShow("ladle", during.length);
      await untilBothShow("teapot", 30);
      const [fromA, fromB] = await Promise.all([
        a.search.searchProducts(everything),
        b.search.searchProducts(everything),
      ]);
      expect(view(fromA)).toEqual(view(fromB));
      expect(fromA.totalSize).toBe(30n + 8n + 20n);
    });

    it("hands the lease over when its holder stops mid-reindex; the other replica then completes a reindex", async () => {
      const holder = writerOf([a, b])[0] as Replica;
      const survivor = holder === a ? b : a;
      const survivorSwaps = survivor.handle.indexWriter?.swaps ?? 0;
      const steps = holder.operator.reindex({})[Symbol.asyncIterator]();
      expect((await steps.next()).value?.done).toBe(false);
      // The caller hangs up; the rebuild goes on in the holder until it stops.
      await steps.return?.(undefined);
      await stopReplica(holder);

      // The survivor takes the lease (released at once) and rebuilds, since it cannot know what the holder wrote.
      await waitFor(
        () => (survivor.handle.indexWriter?.swaps ?? 0) > survivorSwaps,
        60_000,
        "the survivor took the lease over and swapped in its own version",
      );
      let last: ReindexProgress | undefined;
      for await (const step of survivor.operator.reindex({})) last = step;
      expect(last?.done).toBe(true);
      expect(await survivor.handle.indexWriter?.lease.holder()).toBe(survivor.handle.indexWriter?.lease.owner);
      const { indices, served } = await versionsOf(alias);
      expect(indices).toEqual([last?.indexVersion]);
      expect(served).toEqual(indices);
      expect((await survivor.search.searchProducts(everything)).totalSize).toBe(58n);
      await stopReplica(survivor);
    });
  });

  it("lets a replica take over from a holder killed with SIGKILL mid-reindex, and complete a reindex", async () => {
    const index = `catalog-${randomBytes(3).toString("hex")}`;
    indexNames.push(index);
    const alias = opensearchAlias(env.namespace, index);
    // The process starts alone, so it holds the lease; the in-process replica reads.
    const holder = await startReplicaProcess(index, "search-proc");
    const reader = await startReplica(index, "search");
    await reader.handle.built;
    expect(reader.handle.indexWriter?.lease.held).toBe(false);
    const killedVersions = await versionsOf(alias);
    expect(killedVersions.served).toHaveLength(1);

    // Asked through the reader, the holder starts building; it is killed as soon as it reports progress.
    const abort = new AbortController();
    const steps = reader.operator.reindex({}, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await steps.next()).value?.done).toBe(false);
    holder.child.kill("SIGKILL");
    await holder.exited;
    abort.abort();
    await steps.return?.(undefined).catch(() => undefined);

    // Its lease lapses by TTL; the reader takes it and rebuilds.
    await waitFor(
      () => (reader.handle.indexWriter?.swaps ?? 0) > 0,
      60_000,
      "the reader took the lapsed lease over and swapped in its own version",
    );
    let last: ReindexProgress | undefined;
    for await (const step of reader.operator.reindex({})) last = step;
    expect(last?.done).toBe(true);
    const { indices, served } = await versionsOf(alias);
    // The killed holder's versions (served or half built) are gone: only the reader's last one is left.
    expect(indices).toEqual([last?.indexVersion]);
    expect(served).toEqual(indices);
    for (const name of killedVersions.indices) expect(indices).not.toContain(name);
    expect((await reader.search.searchProducts({ query: "teapot", pageSize: 1 })).totalSize).toBe(30n);
    await stopReplica(reader);
  }, 180_000);
});
