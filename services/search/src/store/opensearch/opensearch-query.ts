import {
  type CatalogFacet,
  type CatalogFilter,
  type CatalogQuery,
  type CatalogResult,
  type CatalogSort,
  facetValueLimit,
  priceBuckets,
} from "../../domain/catalog-query.js";

type Json = Record<string, unknown>;

/** Same fields and boosts as the embedded index (text-index.ts): title 3, tags 2, description 1. */
const textFields = ["title^3", "tags.text^2", "description"];
const nameFields = ["title^3", "tags.text^2"];

/**
 * One query word: the best of an exact match, a prefix match (as typed so far, in names) and a match with typos — the same
 * three ways the embedded index expands a word, with the same relative weights and typo allowance.
 */
function wordClause(word: string): Json {
  const queries: Json[] = [{ multi_match: { query: word, fields: textFields, type: "best_fields", tie_breaker: 0.3 } }];
  if (word.length >= 2) {
    // As-you-type matching is for names: prefixes match title and tags only.
    queries.push({ multi_match: { query: word, fields: nameFields, type: "bool_prefix", boost: 0.8 } });
  }
  if (word.length >= 4) {
    queries.push({
      multi_match: {
        query: word,
        fields: textFields,
        fuzziness: "AUTO:4,8",
        prefix_length: 1,
        max_expansions: 50,
        tie_breaker: 0.3,
        boost: 0.5,
      },
    });
  }
  return { dis_max: { queries } };
}

function filterClauses(filter: CatalogFilter): Json[] {
  const clauses: Json[] = [];
  if (filter.inStockOnly) clauses.push({ range: { available: { gt: 0 } } });
  if (filter.currencyCode) clauses.push({ term: { currency: filter.currencyCode } });
  if (filter.minPriceMinor !== undefined || filter.maxPriceMinor !== undefined) {
    clauses.push({ range: { price_minor: { gte: filter.minPriceMinor, lte: filter.maxPriceMinor } } });
  }
  for (const tag of filter.tags) clauses.push({ term: { tags: tag } });
  if (filter.collectionIds.length > 0) clauses.push({ terms: { collection_ids: filter.collectionIds } });
  for (const { key, values } of filter.attributes) clauses.push({ terms: { [`attributes.${key}`]: values } });
  return clauses;
}

/** The bool query of a search: every word must match (AND), filters do not score. */
export function queryClause(query: CatalogQuery, extraFilters: Json[] = []): Json {
  const must = query.words.length > 0 ? [...new Set(query.words)].slice(0, 32).map(wordClause) : [{ match_all: {} }];
  return { bool: { must, filter: [...filterClauses(query.filter), ...extraFilters] } };
}

const sortFields: Record<CatalogSort, Json[]> = {
  relevance: [{ _score: { order: "desc" } }, { id: { order: "asc" } }],
  price_asc: [{ price_minor: { order: "asc" } }, { id: { order: "asc" } }],
  price_desc: [{ price_minor: { order: "desc" } }, { id: { order: "asc" } }],
  newest: [{ create_time_ms: { order: "desc" } }, { id: { order: "asc" } }],
  title: [{ "title.sort": { order: "asc" } }, { id: { order: "asc" } }],
};

const termsOrder = [{ _count: "desc" }, { _key: "asc" }];

function facetAggregation(name: string): Json {
  if (name === "price") {
    return {
      range: {
        field: "price_minor",
        ranges: priceBuckets().map(({ key, from, to }) => ({ key, from, to })),
      },
    };
  }
  const field = name === "tags" ? "tags" : name === "collections" ? "collection_ids" : `attributes.${name.slice(11)}`;
  return { terms: { field, size: facetValueLimit, order: termsOrder } };
}

/**
 * The search request body: one more hit than the page to learn whether another page follows, `search_after` with
 * the cursor's sort values, and one aggregation per facet (named by position, as facet names contain dots).
 */
export function searchBody(query: CatalogQuery, after?: { value: number | string; id: string }): Json {
  const body: Json = {
    size: query.pageSize + 1,
    track_total_hits: true,
    _source: ["product_pb"],
    query: queryClause(query),
    sort: sortFields[query.sort],
  };
  if (after) body.search_after = [after.value, after.id];
  if (query.facets.length > 0) {
    body.aggs = Object.fromEntries(query.facets.map((name, i) => [`facet${i}`, facetAggregation(name)]));
  }
  return body;
}

interface SearchResponseBody {
  hits: {
    total?: { value: number } | number;
    hits: Array<{
      _id: string;
      _score?: number | null;
      _source?: { product_pb?: string };
      sort?: Array<number | string>;
    }>;
  };
  aggregations?: Record<string, { buckets: Array<{ key: string | number; doc_count: number }> }>;
}

/** Hits with their stored product encodings, facets from the aggregations. */
export function searchResult(query: CatalogQuery, raw: unknown): CatalogResult {
  const body = raw as SearchResponseBody;
  const rawHits = body.hits.hits;
  const page = rawHits.slice(0, query.pageSize);
  const hits = page.map((hit) => ({
    id: hit._id,
    // Node's own decoder: a page's hits took 4x as long through protobuf-es's JavaScript one (about 60 µs a search).
    encoded: Buffer.from(hit._source?.product_pb ?? "", "base64"),
    score: query.sort === "relevance" ? (hit._score ?? 0) : 0,
    sortValue: hit.sort?.[0] ?? 0,
  }));
  const total = typeof body.hits.total === "number" ? body.hits.total : (body.hits.total?.value ?? 0);
  const facets: CatalogFacet[] = query.facets.map((name, i) => {
    const buckets = body.aggregations?.[`facet${i}`]?.buckets ?? [];
    return {
      name,
      values: buckets
        .filter((bucket) => bucket.doc_count > 0)
        .map((bucket) => ({ value: String(bucket.key), count: bucket.doc_count })),
    };
  });
  return { hits, total, facets, hasMore: rawHits.length > query.pageSize };
}
