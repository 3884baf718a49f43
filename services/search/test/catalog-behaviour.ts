// One behavioural suite for every index backend (kysely's dialect matrix): whatever runs behind the read model,
// customers get the same matches, orders, facets and pages.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  ListCollectionsRequestSchema,
  type SearchProductsRequest,
  SearchProductsRequestSchema,
  type SearchProductsResponse,
  SortOrder,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createLogger } from "@shop/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CatalogEvent,
  type CatalogIndexBackend,
  type CatalogReadModel,
  createCatalogReadModel,
} from "../src/internal.js";
import {
  collectionChanged,
  minutesAfterBase,
  type ProductSpec,
  productArchived,
  productCreated,
  productUpdated,
  stockChanged,
} from "./support/catalog-events.js";

/** Creates a fresh, empty backend (its own OpenSearch alias); the suite closes it. */
export type BackendFactory = () => Promise<CatalogIndexBackend>;

const collections = [
  { id: "c-kitchen", handle: "kitchen", title: "Kitchen" },
  { id: "c-tea", handle: "tea", title: "Tea" },
  { id: "c-apparel", handle: "apparel", title: "Apparel" },
  { id: "c-pantry", handle: "pantry", title: "Pantry" },
];

/** The seeded catalog: small enough to reason about, varied enough for every filter, sort and facet. */
export const seedProducts: ProductSpec[] = [
  {
    id: "p01",
    title: "Red Ceramic Mug",
    description: "A sturdy mug for coffee.",
    price: 1200,
    tags: ["ceramic", "kitchen"],
    attributes: { color: "red", material: "ceramic" },
    collections: ["c-kitchen"],
    created: minutesAfterBase(1),
  },
  {
    id: "p02",
    title: "Blue Ceramic Mug",
    description: "Holds a large coffee.",
    price: 1500,
    tags: ["ceramic", "kitchen"],
    attributes: { color: "blue", material: "ceramic" },
    collections: ["c-kitchen"],
    created: minutesAfterBase(2),
  },
  {
    id: "p03",
    title: "Espresso Cup Set",
    description: "Four small cups, the perfect companion of a red mug.",
    price: 2500,
    tags: ["ceramic", "kitchen"],
    attributes: { color: "white", material: "porcelain" },
    collections: ["c-kitchen"],
    created: minutesAfterBase(3),
  },
  {
    id: "p04",
    title: "Glass Teapot",
    description: "Brews loose leaf tea.",
    price: 3500,
    tags: ["glass", "kitchen", "tea"],
    attributes: { color: "clear", material: "glass" },
    collections: ["c-kitchen", "c-tea"],
    created: minutesAfterBase(4),
  },
  {
    id: "p05",
    title: "Cotton T-Shirt",
    description: "Soft everyday shirt.",
    price: 1999,
    tags: ["cotton"],
    attributes: { color: "red", size: "m" },
    collections: ["c-apparel"],
    created: minutesAfterBase(5),
  },
  {
    id: "p06",
    title: "Wool Sweater",
    description: "Warm knit for winter.",
    price: 7900,
    tags: ["wool"],
    attributes: { color: "grey", size: "l" },
    collections: ["c-apparel"],
    created: minutesAfterBase(6),
  },
  {
    id: "p07",
    title: "Crème Brûlée Dish",
    description: "Oven safe ramekin.",
    price: 900,
    tags: ["ceramic", "kitchen"],
    attributes: { color: "white", material: "ceramic" },
    collections: ["c-kitchen"],
    created: minutesAfterBase(7),
  },
  {
    id: "p08",
    title: "Coffee Grinder",
    description: "Burr grinder for beans.",
    price: 4500,
    tags: ["coffee", "kitchen"],
    attributes: { color: "black", material: "steel" },
    collections: ["c-kitchen"],
    created: minutesAfterBase(8),
  },
  {
    id: "p09",
    title: "Coffee Beans",
    description: "Dark roast, one kilogram.",
    price: 1290,
    currency: "USD",
    tags: ["coffee"],
    collections: ["c-pantry"],
    created: minutesAfterBase(9),
  },
  {
    id: "p10",
    title: "Tea Towel",
    description: "Dries your teapot and cups.",
    price: 1500,
    tags: ["cotton", "kitchen"],
    attributes: { color: "red", material: "cotton" },
    collections: ["c-kitchen"],
    created: minutesAfterBase(10),
    skus: [
      { sku: "p10-s", price: 1500 },
      { sku: "p10-l", price: 1800 },
    ],
  },
];

/** Stock per SKU in the seed: p02, p05 and p08 are sold out; p10 has two variants. */
const seedStock: Record<string, number> = {
  "p01-1": 5,
  "p02-1": 0,
  "p03-1": 2,
  "p04-1": 1,
  "p05-1": 0,
  "p06-1": 3,
  "p07-1": 8,
  "p08-1": 0,
  "p09-1": 4,
  "p10-s": 2,
  "p10-l": 3,
};

const emptySource = { replay: async () => ({}) };

/** A read model on a fresh backend, serving an empty catalog. */
async function emptyCatalog(makeBackend: BackendFactory): Promise<CatalogReadModel> {
  const readModel = createCatalogReadModel({ backend: await makeBackend(), logger: createLogger("test", "silent") });
  await readModel.rebuild(emptySource);
  return readModel;
}

/** The seed as events: collections, stock (some before its product), products. */
export function seedEvents(): CatalogEvent[] {
  return [
    ...collections.map((c) => collectionChanged(c)),
    // Stock first for some SKUs: it may arrive before its product and must be kept.
    ...Object.entries(seedStock)
      .slice(0, 4)
      .map(([sku, level]) => stockChanged(sku, level, 1)),
    ...seedProducts.map((spec) => productCreated(spec)),
    ...Object.entries(seedStock)
      .slice(4)
      .map(([sku, level]) => stockChanged(sku, level, 1)),
  ];
}

async function applyAll(catalog: CatalogReadModel, events: CatalogEvent[]): Promise<void> {
  for (const event of events) catalog.apply(event);
  await catalog.refresh();
}

type RequestInit = MessageInitShape<typeof SearchProductsRequestSchema>;

function request(init: RequestInit = {}): SearchProductsRequest {
  return create(SearchProductsRequestSchema, { pageSize: 100, ...init });
}

const ids = (response: SearchProductsResponse) => response.hits.map((hit) => hit.product?.id);

/** Every page of a search, following next_page_token; `between` runs after each page (to change documents). */
async function allPages(
  catalog: CatalogReadModel,
  init: RequestInit,
  between: (page: number, seenSoFar: string[]) => Promise<void> = async () => undefined,
): Promise<string[]> {
  const seen: string[] = [];
  let pageToken = "";
  for (let page = 0; page < 100; page++) {
    const response = await catalog.search(request({ ...init, pageToken }));
    seen.push(...ids(response).map(String));
    pageToken = response.nextPageToken;
    if (!pageToken) return seen;
    await between(page, seen);
  }
  throw new Error("paging did not end");
}

export function describeCatalogBehaviour(makeBackend: BackendFactory): void {
  let catalog: CatalogReadModel;
  const search = (init: RequestInit) => catalog.search(request(init));

  beforeAll(async () => {
    catalog = await emptyCatalog(makeBackend);
    await applyAll(catalog, seedEvents());
  });
  afterAll(async () => {
    await catalog?.close();
  });

  describe("text", () => {
    it("ranks a product with the words in its title above one with them in its description", async () => {
      const result = ids(await search({ query: "red mug" }));
      expect(result[0]).toBe("p01");
      expect(result).toContain("p03");
      expect(result.indexOf("p01")).toBeLessThan(result.indexOf("p03"));
      const teapot = ids(await search({ query: "teapot" }));
      expect(teapot).toEqual(["p04", "p10"]);
    });

    it("requires every word to match", async () => {
      expect(ids(await search({ query: "coffee grinder" }))).toEqual(["p08"]);
      expect(ids(await search({ query: "wool teapot" }))).toEqual([]);
    });

    it("tolerates typos and matches prefixes as the customer types", async () => {
      expect(ids(await search({ query: "teapto" }))).toContain("p04");
      expect(ids(await search({ query: "ceramik mugg" })).sort()).toEqual(["p01", "p02", "p03"]);
      expect(ids(await search({ query: "swe" }))).toEqual(["p06"]);
      expect(ids(await search({ query: "grind" }))).toEqual(["p08"]);
    });

    it("ignores accents and case, and matches plurals", async () => {
      expect(ids(await search({ query: "CREME brulee" }))).toEqual(["p07"]);
      expect(ids(await search({ query: "mugs" })).sort()).toEqual(["p01", "p02", "p03"]);
    });

    it("reports a relevance score only when sorting by relevance", async () => {
      const byRelevance = await search({ query: "mug" });
      expect(byRelevance.hits.every((hit) => hit.score > 0)).toBe(true);
      const byPrice = await search({ query: "mug", sort: SortOrder.PRICE_ASC });
      expect(byPrice.hits.every((hit) => hit.score === 0)).toBe(true);
    });
  });

  describe("filters", () => {
    it("filters by price range in one currency, bounds included", async () => {
      const result = await search({ filter: { currencyCode: "EUR", minPriceMinor: 1200n, maxPriceMinor: 1999n } });
      expect(ids(result).sort()).toEqual(["p01", "p02", "p05", "p10"]);
      const usd = await search({ filter: { currencyCode: "USD", maxPriceMinor: 5000n } });
      expect(ids(usd)).toEqual(["p09"]);
    });

    it("uses the lowest variant price", async () => {
      const result = await search({ filter: { currencyCode: "EUR", minPriceMinor: 1600n, maxPriceMinor: 2000n } });
      expect(ids(result)).toEqual(["p05"]);
    });

    it("refuses a price bound without a currency", async () => {
      await expect(search({ filter: { maxPriceMinor: 1000n } })).rejects.toThrow(/currency_code/);
    });

    it("matches any of the collections, by id or handle", async () => {
      const result = await search({ filter: { collectionIds: ["c-tea", "apparel"] } });
      expect(ids(result).sort()).toEqual(["p04", "p05", "p06"]);
    });

    it("matches all of the tags", async () => {
      expect(ids(await search({ filter: { tags: ["kitchen", "glass"] } }))).toEqual(["p04"]);
      expect(ids(await search({ filter: { tags: ["kitchen", "wool"] } }))).toEqual([]);
      expect(ids(await search({ filter: { tags: ["no-such-tag"] } }))).toEqual([]);
    });

    it("matches attributes: any value of each, all attributes", async () => {
      const red = await search({ filter: { attributes: [{ key: "color", values: ["red", "blue"] }] } });
      expect(ids(red).sort()).toEqual(["p01", "p02", "p05", "p10"]);
      const redCeramic = await search({
        filter: {
          attributes: [
            { key: "color", values: ["red", "blue"] },
            { key: "material", values: ["ceramic"] },
          ],
        },
      });
      expect(ids(redCeramic).sort()).toEqual(["p01", "p02"]);
    });

    it("keeps only products in stock when asked", async () => {
      const result = await search({ filter: { inStockOnly: true, collectionIds: ["c-kitchen"] } });
      expect(ids(result).sort()).toEqual(["p01", "p03", "p04", "p07", "p10"]);
    });

    it("combines text with every filter", async () => {
      const result = await search({
        query: "mug",
        filter: {
          collectionIds: ["kitchen"],
          tags: ["ceramic"],
          attributes: [{ key: "material", values: ["ceramic"] }],
          currencyCode: "EUR",
          maxPriceMinor: 2000n,
          inStockOnly: true,
        },
      });
      expect(ids(result)).toEqual(["p01"]);
      expect(result.totalSize).toBe(1n);
    });
  });

  describe("sorting", () => {
    const inEuro = { currencyCode: "EUR" };

    it("sorts by price both ways, ties by id", async () => {
      expect(ids(await search({ filter: inEuro, sort: SortOrder.PRICE_ASC }))).toEqual([
        "p07",
        "p01",
        "p02",
        "p10",
        "p05",
        "p03",
        "p04",
        "p08",
        "p06",
      ]);
      expect(ids(await search({ filter: inEuro, sort: SortOrder.PRICE_DESC }))).toEqual([
        "p06",
        "p08",
        "p04",
        "p03",
        "p05",
        "p02",
        "p10",
        "p01",
        "p07",
      ]);
    });

    it("sorts by newest, the default without text", async () => {
      const expected = ["p10", "p09", "p08", "p07", "p06", "p05", "p04", "p03", "p02", "p01"];
      expect(ids(await search({ sort: SortOrder.NEWEST }))).toEqual(expected);
      expect(ids(await search({}))).toEqual(expected);
      expect(ids(await search({ sort: SortOrder.RELEVANCE }))).toEqual(expected);
    });

    it("sorts by title, ignoring case and accents", async () => {
      expect(ids(await search({ sort: SortOrder.TITLE, filter: { collectionIds: ["c-kitchen"] } }))).toEqual([
        "p02",
        "p08",
        "p07",
        "p03",
        "p04",
        "p01",
        "p10",
      ]);
    });

    it("sorts by relevance with text by default, best first", async () => {
      const result = await search({ query: "coffee" });
      expect(result.hits.length).toBeGreaterThanOrEqual(3);
      const scores = result.hits.map((hit) => hit.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      expect(ids(result).slice(0, 2).sort()).toEqual(["p08", "p09"]);
    });
  });

  describe("facets", () => {
    it("counts tags, collections, price ranges and attribute values over every match", async () => {
      const result = await search({
        query: "",
        filter: { collectionIds: ["c-kitchen"] },
        facets: ["tags", "collections", "price", "attributes.color"],
        pageSize: 1,
      });
      expect(result.totalSize).toBe(7n);
      const facet = (name: string) =>
        Object.fromEntries(
          (result.facets.find((f) => f.name === name)?.values ?? []).map((v) => [v.value, Number(v.count)]),
        );
      expect(result.facets.map((f) => f.name)).toEqual(["tags", "collections", "price", "attributes.color"]);
      expect(facet("tags")).toEqual({ kitchen: 7, ceramic: 4, coffee: 1, cotton: 1, glass: 1, tea: 1 });
      expect(result.facets[0]?.values.map((v) => v.value)).toEqual([
        "kitchen",
        "ceramic",
        "coffee",
        "cotton",
        "glass",
        "tea",
      ]);
      expect(facet("collections")).toEqual({ "c-kitchen": 7, "c-tea": 1 });
      expect(facet("price")).toEqual({ "0-1000": 1, "1000-2500": 3, "2500-5000": 3 });
      expect(facet("attributes.color")).toEqual({ red: 2, blue: 1, white: 2, clear: 1, black: 1 });
    });

    it("counts over filters that keep most of the catalog, and over the whole catalog", async () => {
      const facetsOf = (response: SearchProductsResponse) =>
        Object.fromEntries(
          response.facets.map((f) => [f.name, Object.fromEntries(f.values.map((v) => [v.value, Number(v.count)]))]),
        );
      const inStock = await search({
        filter: { inStockOnly: true },
        facets: ["tags", "collections", "price", "attributes.color"],
        pageSize: 1,
      });
      expect(facetsOf(inStock)).toEqual({
        tags: { kitchen: 5, ceramic: 3, coffee: 1, cotton: 1, glass: 1, tea: 1, wool: 1 },
        collections: { "c-kitchen": 5, "c-tea": 1, "c-apparel": 1, "c-pantry": 1 },
        price: { "0-1000": 1, "1000-2500": 3, "2500-5000": 2, "5000-10000": 1 },
        "attributes.color": { red: 2, white: 2, clear: 1, grey: 1 },
      });
      const everything = await search({ facets: ["collections"], pageSize: 1 });
      expect(facetsOf(everything)).toEqual({
        collections: { "c-kitchen": 7, "c-apparel": 2, "c-tea": 1, "c-pantry": 1 },
      });
    });

    it("counts within the text and filters of the search", async () => {
      const result = await search({ query: "mug", facets: ["attributes.material"], filter: { inStockOnly: true } });
      expect(result.facets[0]?.values.map((v) => [v.value, Number(v.count)])).toEqual([
        ["ceramic", 1],
        ["porcelain", 1],
      ]);
    });
  });

  describe("paging", () => {
    const sorts = [SortOrder.NEWEST, SortOrder.PRICE_ASC, SortOrder.PRICE_DESC, SortOrder.TITLE];

    it("pages through every order without repeating or skipping", async () => {
      for (const sort of sorts) {
        const whole = ids(await search({ sort }));
        expect(await allPages(catalog, { sort, pageSize: 3 })).toEqual(whole);
      }
      const byRelevance = ids(await search({ query: "coffee" }));
      expect(await allPages(catalog, { query: "coffee", pageSize: 1 })).toEqual(byRelevance);
    });

    it("keeps the total and facets on every page", async () => {
      const first = await search({ pageSize: 4, facets: ["collections"] });
      const second = await search({ pageSize: 4, facets: ["collections"], pageToken: first.nextPageToken });
      expect(second.totalSize).toBe(first.totalSize);
      expect(second.facets).toEqual(first.facets);
    });

    it("refuses a page token of another search", async () => {
      const first = await search({ pageSize: 2, sort: SortOrder.PRICE_ASC });
      await expect(search({ pageSize: 2, sort: SortOrder.TITLE, pageToken: first.nextPageToken })).rejects.toThrow(
        /page_token/,
      );
      await expect(search({ pageToken: "not-a-token" })).rejects.toThrow(/page_token/);
    });
  });

  describe("live changes", () => {
    let live: CatalogReadModel;
    let version = 10;
    beforeAll(async () => {
      live = await emptyCatalog(makeBackend);
      await applyAll(live, seedEvents());
    });
    afterAll(async () => {
      await live?.close();
    });

    const liveSearch = (init: RequestInit) => live.search(request(init));
    const extra = (n: number, price: number, title = `Gadget ${n}`): ProductSpec => ({
      id: `x${String(n).padStart(2, "0")}`,
      title,
      description: "An extra gadget.",
      price,
      tags: ["gadget"],
      collections: ["c-kitchen"],
      created: minutesAfterBase(100 + n),
    });

    it("never repeats or skips an unchanged product while others are added and removed between pages", async () => {
      for (const sort of [SortOrder.PRICE_ASC, SortOrder.NEWEST, SortOrder.TITLE]) {
        const before = new Set(ids(await liveSearch({ sort })).map(String));
        const removed = new Set<string>();
        let next = sort * 10;
        const seen = await allPages(live, { sort, pageSize: 2 }, async (page, seenSoFar) => {
          // Products that sort anywhere: cheap and dear, old and new, early and late titles.
          const added = [extra(next++, 100, "Aardvark Apron"), extra(next++, 999_999, "Zebra Zester")];
          live.apply(productCreated(added[0] as ProductSpec));
          live.apply(productCreated(added[1] as ProductSpec));
          // Drop one product not seen yet, every other page.
          if (page % 2 === 0) {
            const victim = [...before].find((id) => !removed.has(id) && !seenSoFar.includes(id) && id.startsWith("p"));
            if (victim) {
              const spec = seedProducts.find((p) => p.id === victim) as ProductSpec;
              live.apply(productArchived(spec, ++version));
              removed.add(victim);
            }
          }
          await live.refresh();
        });
        expect(new Set(seen).size).toBe(seen.length);
        const unchanged = [...before].filter((id) => !removed.has(id));
        for (const id of unchanged) expect(seen.filter((s) => s === id)).toHaveLength(1);
        // Restore the seed for the next order.
        for (const id of removed) {
          const spec = seedProducts.find((p) => p.id === id) as ProductSpec;
          live.apply(productUpdated(spec, ++version));
        }
        await live.refresh();
      }
    });

    it("keeps relevance paging stable while unrelated products change the corpus statistics", async () => {
      const whole = ids(await liveSearch({ query: "ceramic" })).map(String);
      let n = 900;
      const seen = await allPages(live, { query: "ceramic", pageSize: 1 }, async () => {
        for (let i = 0; i < 3; i++) live.apply(productCreated(extra(n++, 5000, `Plain Widget ${n}`)));
        await live.refresh();
      });
      expect(seen).toEqual(whole);
    });

    it("shows remaining stock per variant and in total, and follows stock changes", async () => {
      const towel = (await liveSearch({ query: "towel" })).hits[0]?.product;
      expect(towel?.available).toBe(5n);
      expect(towel?.variants.map((v) => [v.sku, v.available])).toEqual([
        ["p10-s", 2n],
        ["p10-l", 3n],
      ]);
      live.apply(stockChanged("p10-s", 0, 2));
      live.apply(stockChanged("p10-l", 0, 2));
      await live.refresh();
      expect((await liveSearch({ query: "towel" })).hits[0]?.product?.available).toBe(0n);
      expect(ids(await liveSearch({ query: "towel", filter: { inStockOnly: true } }))).toEqual([]);
      live.apply(stockChanged("p10-l", 7, 3));
      await live.refresh();
      expect(ids(await liveSearch({ query: "towel", filter: { inStockOnly: true } }))).toEqual(["p10"]);
      expect((await live.getProduct("p10")).available).toBe(7n);
    });

    it("keeps stock that arrives before its product", async () => {
      live.apply(stockChanged("early-1", 6, 1));
      live.apply(productCreated({ id: "early", title: "Early Bird Feeder", price: 2000, skus: ["early-1"] }));
      await live.refresh();
      expect((await liveSearch({ query: "feeder" })).hits[0]?.product?.available).toBe(6n);
    });

    it("applies duplicates and stale versions as no change", async () => {
      const spec: ProductSpec = { id: "versioned", title: "Versioned Vase", price: 3000 };
      live.apply(productCreated(spec, 1));
      live.apply(productUpdated({ ...spec, title: "Versioned Vase Deluxe" }, 3));
      live.apply(productUpdated({ ...spec, title: "Versioned Vase Old" }, 2));
      live.apply(productUpdated({ ...spec, title: "Versioned Vase Duplicate" }, 3));
      live.apply(stockChanged("versioned-1", 4, 5));
      live.apply(stockChanged("versioned-1", 9, 4));
      live.apply(stockChanged("versioned-1", 9, 5));
      await live.refresh();
      const product = await live.getProduct("versioned");
      expect(product.title).toBe("Versioned Vase Deluxe");
      expect(product.available).toBe(4n);
      expect(ids(await liveSearch({ query: "old vase" }))).toEqual([]);
    });

    it("finds a renamed product by its new words only", async () => {
      const spec: ProductSpec = { id: "renamed", title: "Walnut Spoon", price: 700, tags: ["wood"] };
      live.apply(productCreated(spec, 1));
      live.apply(productUpdated({ ...spec, title: "Beech Ladle", tags: ["beech"] }, 2));
      live.apply(productUpdated({ ...spec, title: "Beech Ladle Large", tags: ["beech"] }, 3));
      await live.refresh();
      expect(ids(await liveSearch({ query: "walnut spoon" }))).toEqual([]);
      expect(ids(await liveSearch({ filter: { tags: ["wood"] } }))).toEqual([]);
      expect(ids(await liveSearch({ query: "beech ladle large" }))).toEqual(["renamed"]);
    });

    it("hides archived products, and a stale update does not bring them back", async () => {
      const spec: ProductSpec = { id: "gone", title: "Vanishing Vase", price: 3000, collections: ["c-tea"] };
      live.apply(productCreated(spec, 1));
      await live.refresh();
      expect(ids(await liveSearch({ query: "vanishing" }))).toEqual(["gone"]);
      live.apply(productArchived(spec, 2));
      live.apply(productUpdated(spec, 1));
      await live.refresh();
      expect(ids(await liveSearch({ query: "vanishing" }))).toEqual([]);
      expect(ids(await liveSearch({ filter: { collectionIds: ["c-tea"] } }))).toEqual(["p04"]);
      await expect(live.getProduct("gone")).rejects.toThrow(/not in the catalog/);
    });

    it("does not list drafts", async () => {
      live.apply(productCreated({ id: "draft", title: "Secret Samovar", price: 9000, status: 1 }));
      await live.refresh();
      expect(ids(await liveSearch({ query: "samovar" }))).toEqual([]);
      live.apply(productUpdated({ id: "draft", title: "Secret Samovar", price: 9000 }, 2));
      await live.refresh();
      expect(ids(await liveSearch({ query: "samovar" }))).toEqual(["draft"]);
    });

    it("follows collection membership and collection changes", async () => {
      const spec: ProductSpec = { id: "mover", title: "Moving Mortar", price: 2200, collections: ["c-kitchen"] };
      live.apply(productCreated(spec, 1));
      await live.refresh();
      const countOf = (handle: string) =>
        live.listCollections(create(ListCollectionsRequestSchema)).collections.find((c) => c.handle === handle)
          ?.productCount;
      const teaBefore = countOf("tea") ?? 0n;
      live.apply(productUpdated({ ...spec, collections: ["c-tea"] }, 2));
      await live.refresh();
      expect(ids(await liveSearch({ query: "mortar", filter: { collectionIds: ["kitchen"] } }))).toEqual([]);
      expect(ids(await liveSearch({ query: "mortar", filter: { collectionIds: ["tea"] } }))).toEqual(["mover"]);
      const facets = await liveSearch({ query: "mortar", facets: ["collections"] });
      expect(facets.facets[0]?.values.map((v) => v.value)).toEqual(["c-tea"]);
      expect(countOf("tea")).toBe(teaBefore + 1n);

      live.apply(collectionChanged({ id: "c-tea", handle: "tea-time", title: "Tea Time" }, 2));
      live.apply(collectionChanged({ id: "c-pantry", handle: "pantry", title: "Pantry", archived: true }, 2));
      await live.refresh();
      expect(ids(await liveSearch({ query: "mortar", filter: { collectionIds: ["tea-time"] } }))).toEqual(["mover"]);
      const handles = live.listCollections(create(ListCollectionsRequestSchema)).collections.map((c) => c.handle);
      expect(handles).toEqual(["apparel", "kitchen", "tea-time"]);
    });
  });
}
