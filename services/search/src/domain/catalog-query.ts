import type { CatalogProduct } from "@shop/contracts/shop/search/v1/search_pb.js";
import type { ProductEncoding } from "./catalog-product.js";

/** Orders the catalog can be read in; every one ends with the product id so the order is total. */
export type CatalogSort = "relevance" | "price_asc" | "price_desc" | "newest" | "title";

export interface CatalogFilter {
  /** Inclusive bounds in minor units of `currencyCode`; a bound also excludes products in other currencies. */
  minPriceMinor?: number;
  maxPriceMinor?: number;
  currencyCode?: string;
  /** Any of these collection ids. */
  collectionIds: string[];
  /** All of these tags. */
  tags: string[];
  /** Each attribute has one of its values. */
  attributes: Array<{ key: string; values: string[] }>;
  inStockOnly: boolean;
}

/** Where the previous page ended: the last hit's sort value and id. */
export interface CatalogCursor {
  value: number | string;
  id: string;
}

/** A search as every index backend receives it: validated, defaults applied, cursor decoded. */
export interface CatalogQuery {
  /** The words of the query text, folded (see text-analysis); empty matches every product. */
  words: string[];
  filter: CatalogFilter;
  sort: CatalogSort;
  /** "tags", "collections", "price" or "attributes.<key>". */
  facets: string[];
  pageSize: number;
  after?: CatalogCursor;
}

export interface CatalogHit {
  id: string;
  /** The product's CatalogProduct encoding: binary responses carry it as is, JSON ones decode the page's hits. */
  encoded: ProductEncoding;
  /** Relevance score; 0 unless sorted by relevance. */
  score: number;
  /** The value the hit is sorted by (score, price, create time or title key): the next cursor. */
  sortValue: number | string;
}

export interface CatalogFacet {
  name: string;
  values: Array<{ value: string; count: number }>;
}

export interface CatalogResult {
  hits: CatalogHit[];
  /** Every product matching text and filters, regardless of the cursor. */
  total: number;
  facets: CatalogFacet[];
  /** More hits follow the last one returned. */
  hasMore: boolean;
}

/** Terms facets (tags, collections, attributes) return at most this many values, by count then value. */
export const facetValueLimit = 50;

/** Price facet buckets in minor units: [0, 1000), [1000, 2500) … [100000, ∞); named "0-1000" … "100000-". */
export const priceFacetBounds = [1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000] as const;

export function priceBuckets(): Array<{ key: string; from?: number; to?: number }> {
  const buckets: Array<{ key: string; from?: number; to?: number }> = [];
  let from = 0;
  for (const to of priceFacetBounds) {
    buckets.push({ key: `${from}-${to}`, from: from === 0 ? undefined : from, to });
    from = to;
  }
  buckets.push({ key: `${from}-`, from });
  return buckets;
}

/** Index of the price bucket of an amount. */
export function priceBucketOf(amountMinor: number): number {
  let i = 0;
  while (i < priceFacetBounds.length && amountMinor >= (priceFacetBounds[i] as number)) i++;
  return i;
}

/** The product is in the filter (text aside). Used by the embedded index and the baseline scan of the benchmark. */
export function matchesFilter(product: CatalogProduct, filter: CatalogFilter): boolean {
  if (filter.inStockOnly && product.available <= 0n) return false;
  if (filter.minPriceMinor !== undefined || filter.maxPriceMinor !== undefined) {
    const price = product.price;
    if (price === undefined || price.currencyCode !== filter.currencyCode) return false;
    const amount = Number(price.amountMinor);
    if (filter.minPriceMinor !== undefined && amount < filter.minPriceMinor) return false;
    if (filter.maxPriceMinor !== undefined && amount > filter.maxPriceMinor) return false;
  } else if (filter.currencyCode && product.price?.currencyCode !== filter.currencyCode) return false;
  if (filter.collectionIds.length > 0 && !filter.collectionIds.some((id) => product.collectionIds.includes(id)))
    return false;
  for (const tag of filter.tags) if (!product.tags.includes(tag)) return false;
  for (const { key, values } of filter.attributes) {
    const value = product.attributes[key];
    if (value === undefined || !values.includes(value)) return false;
  }
  return true;
}
