import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type CatalogProduct, CatalogProductSchema } from "@shop/contracts/shop/search/v1/search_pb.js";
import { describe, expect, it } from "vitest";
import { createTimeMs, storedProductOf } from "../../domain/catalog-product.js";
import {
  type CatalogFacet,
  type CatalogFilter,
  type CatalogQuery,
  type CatalogSort,
  facetValueLimit,
  matchesFilter,
  priceBucketOf,
  priceBuckets,
} from "../../domain/catalog-query.js";
import { foldText } from "../../domain/text-analysis.js";
import { EmbeddedCatalogIndex } from "./embedded-index.js";

// The index against a plain scan of the same products: totals, every page of every sort and the facet counts must be
// the same after any sequence of changes. Few distinct prices, times and titles make ties common, and a few thousand
// products make the bitsets, the presorted walks and their fallbacks all take part.

/** A tiny seeded generator (LCG), so a failing run can be replayed. */
function randomOf(seed: number): { below: (n: number) => number; pick: <T>(items: readonly T[]) => T } {
  let state = seed >>> 0;
  const below = (n: number) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return Math.floor((state / 4_294_967_296) * n);
  };
  return { below, pick: (items) => items[below(items.length)] as (typeof items)[number] };
}

const words = ["Oak", "Émile", "Lamp", "Mug", "Linen", "Blue", "Stool", "Crème", "Vase", "Zinc"];
const tags = ["sale", "new", "eco", "gift", "rare-1", "rare-2"];
const collections = ["c-home", "c-garden", "c-kitchen", "c-rare"];
const colors = ["red", "green", "blue", "black", "white", "sand"];
const prices = [0, 500, 999, 1000, 2499, 2500, 4999, 12_000, 99_999, 150_000];
const times = [1_700_000_000_000, 1_700_000_060_000, 1_700_000_120_000, 1_710_000_000_000];
const sorts: CatalogSort[] = ["price_asc", "price_desc", "newest", "title"];
const allFacets = ["tags", "collections", "price", "attributes.color", "attributes.size", "attributes.none"];

type Random = ReturnType<typeof randomOf>;

function productOf(n: number, random: Random): CatalogProduct {
  const title = Array.from({ length: 1 + random.below(3) }, () => random.pick(words)).join(" ");
  const attributes: Record<string, string> = { color: random.pick(colors) };
  if (random.below(2) === 0) attributes.size = random.pick(["s", "m", "l"]);
  const currency = random.below(10) === 0 ? "USD" : "EUR";
  return create(CatalogProductSchema, {
    id: `p${n}`,
    title,
    description: `${random.pick(words)} ${random.pick(words)}`,
    price: random.below(30) === 0 ? undefined : { currencyCode: currency, amountMinor: BigInt(random.pick(prices)) },
    tags: tags.filter((tag) => random.below(tag.startsWith("rare") ? 40 : 3) === 0),
    collectionIds: collections.filter((id) => random.below(id === "c-rare" ? 50 : 3) === 0),
    attributes,
    available: BigInt(random.below(4) === 0 ? 0 : 1 + random.below(5)),
    createTime: timestampFromMs(random.pick(times)),
  });
}

function filterOf(random: Random): CatalogFilter {
  const filter: CatalogFilter = { collectionIds: [], tags: [], attributes: [], inStockOnly: random.below(3) === 0 };
  if (random.below(3) === 0) {
    filter.currencyCode = random.below(5) === 0 ? "USD" : "EUR";
    if (random.below(2) === 0) filter.minPriceMinor = random.pick(prices);
    if (random.below(2) === 0) filter.maxPriceMinor = (filter.minPriceMinor ?? 0) + random.pick(prices);
  }
  if (random.below(4) === 0) filter.tags = [random.pick(tags)];
  if (random.below(4) === 0) filter.collectionIds = [random.pick(collections), random.pick(collections)];
  if (random.below(4) === 0) filter.attributes = [{ key: "color", values: [random.pick(colors), random.pick(colors)] }];
  return filter;
}

const priceOf = (p: CatalogProduct) => Number(p.price?.amountMinor ?? 0n);
const byId = (a: CatalogProduct, b: CatalogProduct) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The sort's full order, as a plain comparison of products. */
function compareFor(sort: CatalogSort): (a: CatalogProduct, b: CatalogProduct) => number {
  switch (sort) {
    case "price_asc":
      return (a, b) => priceOf(a) - priceOf(b) || byId(a, b);
    case "price_desc":
      return (a, b) => priceOf(b) - priceOf(a) || byId(a, b);
    case "newest":
      return (a, b) => createTimeMs(b) - createTimeMs(a) || byId(a, b);
    default:
      return (a, b) => {
        const ta = foldText(a.title);
        const tb = foldText(b.title);
        return ta < tb ? -1 : ta > tb ? 1 : byId(a, b);
      };
  }
}

/** Facet counts by scanning the matches, as facet-counter documents them. */
function facetsOf(names: string[], matches: CatalogProduct[]): CatalogFacet[] {
  return names.map((name) => {
    const counts = new Map<string, number>();
    const count = (value: string | undefined) => {
      if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
    };
    for (const p of matches) {
      if (name === "tags") new Set(p.tags).forEach(count);
      else if (name === "collections") new Set(p.collectionIds).forEach(count);
      else if (name === "price") count(priceBuckets()[priceBucketOf(priceOf(p))]?.key);
      else count(p.attributes[name.slice("attributes.".length)]);
    }
    if (name === "price")
      return {
        name,
        values: priceBuckets().flatMap(({ key }) =>
          counts.has(key) ? [{ value: key, count: counts.get(key) as number }] : [],
        ),
      };
    const values = [...counts].map(([value, n]) => ({ value, count: n }));
    values.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
    return { name, values: values.slice(0, facetValueLimit) };
  });
}

/** Every page of a query, following the cursors; checks what each page says about the whole. */
function allPages(index: EmbeddedCatalogIndex, query: CatalogQuery, expectTotal?: number): string[] {
  const ids: string[] = [];
  let after: CatalogQuery["after"];
  for (let page = 0; page < 10_000; page++) {
    const result = index.search({ ...query, after });
    if (expectTotal !== undefined) expect(result.total).toBe(expectTotal);
    ids.push(...result.hits.map((hit) => hit.id));
    const last = result.hits.at(-1);
    if (!result.hasMore || !last) return ids;
    after = { value: last.sortValue, id: last.id };
  }
  throw new Error("paging did not end");
}

describe("embedded index against a scan", () => {
  it("gives the same totals, pages and facet counts through updates, delistings, relistings and stock changes", async () => {
    const random = randomOf(11);
    const index = new EmbeddedCatalogIndex("test");
    const products = new Map<string, CatalogProduct>();
    const put = (product: CatalogProduct) => {
      products.set(product.id, product);
      index.write([storedProductOf(product)], []);
    };
    for (let n = 0; n < 3000; n++) put(productOf(n, random));
    await index.refresh();

    for (let round = 0; round < 6; round++) {
      for (let query = 0; query < 25; query++) {
        const filter = filterOf(random);
        const sort = random.pick(sorts);
        const facets = allFacets.filter(() => random.below(2) === 0);
        const pageSize = random.pick([3, 7, 20, 50]);
        const matches = [...products.values()].filter((p) => matchesFilter(p, filter)).sort(compareFor(sort));
        const base: CatalogQuery = { words: [], filter, sort, facets, pageSize };

        const first = index.search(base);
        expect(first.total).toBe(matches.length);
        expect(first.facets).toEqual(facetsOf(facets, matches));
        expect(allPages(index, base, matches.length)).toEqual(matches.map((p) => p.id));

        // With text: the relevance pages give the match set; every other sort must list the same set in its order.
        const word = foldText(random.pick(words));
        const relevant = new Set(allPages(index, { ...base, words: [word], sort: "relevance" }));
        const inOrder = matches.filter((p) => relevant.has(p.id)).map((p) => p.id);
        expect(inOrder.length).toBe(relevant.size);
        expect(allPages(index, { ...base, words: [word] }, relevant.size)).toEqual(inOrder);
      }

      // Churn: edits (prices, times, titles, tags, attributes), delistings, relistings, stock changes.
      for (let change = 0; change < 400; change++) {
        const id = `p${random.below(3200)}`;
        const current = products.get(id);
        const roll = random.below(10);
        if (current && roll < 2) {
          products.delete(id);
          index.write([], [id]);
        } else if (current && roll < 5) {
          put(create(CatalogProductSchema, { ...current, available: BigInt(random.below(2) * 3) }));
        } else {
          put(productOf(Number(id.slice(1)), random));
        }
      }
      if (round % 2 === 1) await index.refresh();
    }
  });

  it("pages through ties in price, time and title by id, whichever way a page is found", () => {
    const index = new EmbeddedCatalogIndex("ties");
    const all: CatalogProduct[] = [];
    for (let n = 0; n < 2000; n++) {
      const product = create(CatalogProductSchema, {
        id: `t${(n * 7919) % 2000}`,
        title: n % 2 === 0 ? "Same Title" : "Other Title",
        price: { currencyCode: "EUR", amountMinor: BigInt(n % 3) * 100n },
        available: 1n,
        createTime: timestampFromMs(times[n % 2] as number),
      });
      all.push(product);
      index.write([storedProductOf(product)], []);
    }
    for (const sort of sorts) {
      for (const pageSize of [1, 20, 300]) {
        const filter = { collectionIds: [], tags: [], attributes: [], inStockOnly: false };
        const query: CatalogQuery = { words: [], filter, sort, facets: [], pageSize };
        expect(allPages(index, query, 2000)).toEqual([...all].sort(compareFor(sort)).map((p) => p.id));
      }
    }
  });
});
