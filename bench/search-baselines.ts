// What the embedded index is measured against, on the same queries: a plain linear scan (the floor any index must
// beat) and MiniSearch (the well-kept library alternative) with the same filters, sorts and facets around it.
import type { CatalogProduct } from "@shop/contracts/shop/search/v1/search_pb.js";
import {
  analyze,
  type CatalogFacet,
  type CatalogQuery,
  type CatalogSort,
  foldText,
  matchesFilter,
  priceBucketOf,
  priceBuckets,
  stem,
} from "@shop/search/internal";
import MiniSearch from "minisearch";

interface Baseline {
  search(query: CatalogQuery): { ids: string[]; total: number; facets: CatalogFacet[] };
}

const bucketKeys = priceBuckets().map((bucket) => bucket.key);

/** Facet counts by walking every match with Maps: what a search without an index has to do. */
function facetsOf(products: CatalogProduct[], names: string[]): CatalogFacet[] {
  return names.map((name) => {
    const counts = new Map<string, number>();
    const add = (value: string) => counts.set(value, (counts.get(value) ?? 0) + 1);
    for (const product of products) {
      if (name === "tags") for (const tag of product.tags) add(tag);
      else if (name === "collections") for (const id of product.collectionIds) add(id);
      else if (name === "price") add(bucketKeys[priceBucketOf(Number(product.price?.amountMinor ?? 0n))] as string);
      else {
        const value = product.attributes[name.slice("attributes.".length)];
        if (value !== undefined) add(value);
      }
    }
    const values = [...counts].map(([value, count]) => ({ value, count }));
    values.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
    return { name, values: values.slice(0, 50) };
  });
}

function comparator(sort: CatalogSort, scores: Map<string, number>): (a: CatalogProduct, b: CatalogProduct) => number {
  const byId = (a: CatalogProduct, b: CatalogProduct) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const price = (p: CatalogProduct) => Number(p.price?.amountMinor ?? 0n);
  const created = (p: CatalogProduct) => Number(p.createTime?.seconds ?? 0n);
  switch (sort) {
    case "relevance":
      return (a, b) => (scores.get(b.id) ?? 0) - (scores.get(a.id) ?? 0) || byId(a, b);
    case "price_asc":
      return (a, b) => price(a) - price(b) || byId(a, b);
    case "price_desc":
      return (a, b) => price(b) - price(a) || byId(a, b);
    case "newest":
      return (a, b) => created(b) - created(a) || byId(a, b);
    case "title": {
      return (a, b) => {
        const ta = foldText(a.title);
        const tb = foldText(b.title);
        return ta < tb ? -1 : ta > tb ? 1 : byId(a, b);
      };
    }
  }
}

/** Sorts the matches, takes the first page and counts facets: the part both baselines share. */
function finish(query: CatalogQuery, matches: CatalogProduct[], scores: Map<string, number>) {
  const page = [...matches].sort(comparator(query.sort, scores)).slice(0, query.pageSize);
  return { ids: page.map((p) => p.id), total: matches.length, facets: facetsOf(matches, query.facets) };
}

/**
 * Every product checked against every query: text by stemmed words (exact or prefix) in pre-analyzed fields, no
 * typos; title words count 3, tags 2, description 1.
 */
export function createLinearScan(products: CatalogProduct[]): Baseline {
  const fields = products.map((product) => ({
    product,
    title: new Set(analyze(product.title)),
    tags: new Set(analyze(product.tags.join(" "))),
    all: [...new Set(analyze(`${product.title} ${product.tags.join(" ")} ${product.description}`))],
  }));
  return {
    search(query) {
      const words = query.words.map(stem);
      const matches: CatalogProduct[] = [];
      const scores = new Map<string, number>();
      for (const { product, title, tags, all } of fields) {
        if (!matchesFilter(product, query.filter)) continue;
        let score = 0;
        let every = true;
        for (const word of words) {
          if (!all.some((term) => term.startsWith(word))) {
            every = false;
            break;
          }
          score += title.has(word) ? 3 : tags.has(word) ? 2 : 1;
        }
        if (!every) continue;
        matches.push(product);
        scores.set(product.id, score);
      }
      return finish(query, matches, scores);
    },
  };
}

/**
 * MiniSearch for the text (BM25+, prefix, the same typo allowance, AND of words, title and tags boosted), the
 * filters, sorts and facets around it as a service built on it would do them.
 */
export function createMiniSearchBaseline(products: CatalogProduct[]): Baseline {
  const byId = new Map(products.map((product) => [product.id, product]));
  const index = new MiniSearch<CatalogProduct>({
    fields: ["title", "tags", "description"],
    extractField: (product, field) =>
      field === "tags" ? product.tags.join(" ") : String(product[field as "title" | "description"] ?? ""),
    processTerm: (term) => stem(foldText(term)),
  });
  index.addAll(products);
  return {
    search(query) {
      const scores = new Map<string, number>();
      let matches: CatalogProduct[];
      if (query.words.length > 0) {
        const results = index.search(query.words.join(" "), {
          combineWith: "AND",
          prefix: (term) => term.length >= 2,
          fuzzy: (term) => (term.length >= 8 ? 2 : term.length >= 4 ? 1 : false),
          boost: { title: 3, tags: 2 },
          filter: (result) => matchesFilter(byId.get(result.id) as CatalogProduct, query.filter),
        });
        matches = results.map((result) => {
          scores.set(result.id, result.score);
          return byId.get(result.id) as CatalogProduct;
        });
      } else {
        matches = products.filter((product) => matchesFilter(product, query.filter));
      }
      return finish(query, matches, scores);
    },
  };
}
