import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";
import { PageCursorSchema } from "@shop/contracts/shop/common/v1/audit_pb.js";
import { type SearchProductsRequest, SortOrder } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { InvalidInputError } from "@shop/platform";
import type { CatalogCursor, CatalogFilter, CatalogQuery, CatalogSort } from "./catalog-query.js";
import { tokenize } from "./text-analysis.js";

/** Page size when the request leaves it at 0. */
export const defaultPageSize = 20;

const sortByOrder: Record<SortOrder, CatalogSort | undefined> = {
  [SortOrder.UNSPECIFIED]: undefined,
  [SortOrder.RELEVANCE]: "relevance",
  [SortOrder.PRICE_ASC]: "price_asc",
  [SortOrder.PRICE_DESC]: "price_desc",
  [SortOrder.NEWEST]: "newest",
  [SortOrder.TITLE]: "title",
};

function filterOf(request: SearchProductsRequest, collectionId: (idOrHandle: string) => string): CatalogFilter {
  const f = request.filter;
  const min = f?.minPriceMinor === undefined ? undefined : Number(f.minPriceMinor);
  const max = f?.maxPriceMinor === undefined ? undefined : Number(f.maxPriceMinor);
  if ((min !== undefined || max !== undefined) && !f?.currencyCode) {
    throw new InvalidInputError("filter.currency_code", "is required with a price bound (e.g. EUR)");
  }
  if (min !== undefined && max !== undefined && min > max) {
    throw new InvalidInputError("filter.min_price_minor", "is above max_price_minor");
  }
  return {
    minPriceMinor: min,
    maxPriceMinor: max,
    currencyCode: f?.currencyCode || undefined,
    collectionIds: [...new Set((f?.collectionIds ?? []).map(collectionId))].sort(),
    tags: [...new Set(f?.tags ?? [])].sort(),
    attributes: (f?.attributes ?? []).map((a) => ({ key: a.key, values: [...new Set(a.values)] })),
    inStockOnly: f?.inStockOnly ?? false,
  };
}

/** Identifies what a page token belongs to: the text, filter and order, not the page size or facets. */
function fingerprint(words: string[], filter: CatalogFilter, sort: CatalogSort): string {
  const canonical = JSON.stringify([words, sort, filter]);
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 16);
}

const numericSorts: ReadonlySet<CatalogSort> = new Set(["relevance", "price_asc", "price_desc", "newest"]);

/** base64url of a shop.common.v1.PageCursor: the last hit's sort value and id, plus the query fingerprint. */
export function encodePageToken(cursor: CatalogCursor, queryFingerprint: string): string {
  const message = create(PageCursorSchema, { after: [String(cursor.value), cursor.id], queryFingerprint });
  return base64Encode(toBinary(PageCursorSchema, message), "url");
}

function decodePageToken(token: string, sort: CatalogSort, expectedFingerprint: string): CatalogCursor {
  const invalid = () => new InvalidInputError("page_token", "is not a page token of this search; start without one");
  let after: string[];
  let queryFingerprint: string;
  try {
    ({ after, queryFingerprint } = fromBinary(PageCursorSchema, base64Decode(token)));
  } catch {
    throw invalid();
  }
  if (queryFingerprint !== expectedFingerprint) {
    throw new InvalidInputError("page_token", "belongs to a search with other text, filters or sort; start again");
  }
  const [raw, id] = after;
  if (raw === undefined || id === undefined || after.length !== 2) throw invalid();
  if (!numericSorts.has(sort)) return { value: raw, id };
  const value = Number(raw);
  if (raw === "" || !Number.isFinite(value)) throw invalid();
  return { value, id };
}

/** A validated query plus the fingerprint its next page token carries. */
export interface PreparedSearch {
  query: CatalogQuery;
  fingerprint: string;
}

/**
 * Turns a SearchProductsRequest into the query every backend runs: words of the text, the filter with collection
 * handles resolved to ids, the effective sort (relevance needs text; otherwise newest), page size and cursor.
 */
export function prepareSearch(
  request: SearchProductsRequest,
  collectionId: (idOrHandle: string) => string = (id) => id,
): PreparedSearch {
  const words = tokenize(request.query);
  const filter = filterOf(request, collectionId);
  const requested = sortByOrder[request.sort];
  const sort: CatalogSort =
    requested === undefined || (requested === "relevance" && words.length === 0)
      ? words.length > 0
        ? "relevance"
        : "newest"
      : requested;
  const print = fingerprint(words, filter, sort);
  const query: CatalogQuery = {
    words,
    filter,
    sort,
    facets: [...new Set(request.facets)],
    pageSize: request.pageSize || defaultPageSize,
    after: request.pageToken ? decodePageToken(request.pageToken, sort, print) : undefined,
  };
  return { query, fingerprint: print };
}
