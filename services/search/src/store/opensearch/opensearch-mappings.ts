import { base64Encode } from "@bufbuild/protobuf/wire";
import { createTimeMs, type StoredProduct, unpackEncoding } from "../../domain/catalog-product.js";

/** Prefixes of name words indexed as terms: as-you-type matching starts at 2 characters (opensearch-query.ts). */
const namePrefixes = { min_chars: 2, max_chars: 10 };

/**
 * Settings and explicit mappings of every index version. The `shop_text` analyzer mirrors the embedded index's
 * (domain/text-analysis.ts): standard tokenizer, lowercase, asciifolding, minimal_english (plural) stemming. No
 * `refresh_interval`: the backend sets it, since its writers refresh the index themselves (opensearch-backend.ts).
 */
export const catalogIndexBody = {
  settings: {
    number_of_shards: 1,
    // Each search runs over the segments in two slices on two threads (OpenSearch 2.17 or later): one customer's search
    // no longer waits on one thread. The same 100k products and query mix on a 2-core machine, in alternating rounds
    // (9 pairs): p99 one at a time lower in every pair (8.6-13.9 ms against 11.0-29.4; 22% lower at the median pair),
    // the rate one at a time higher in 6, and at 4 in flight, with every core busy anyway, the same (451 against 453).
    "search.concurrent_segment_search.mode": "all",
    "search.concurrent.max_slice_count": 2,
    analysis: {
      filter: { shop_plural_stemmer: { type: "stemmer", language: "minimal_english" } },
      analyzer: {
        shop_text: {
          type: "custom",
          tokenizer: "standard",
          filter: ["lowercase", "asciifolding", "shop_plural_stemmer"],
        },
      },
      normalizer: { shop_sort: { type: "custom", filter: ["lowercase", "asciifolding"] } },
    },
  },
  mappings: {
    dynamic: "strict",
    // Facet fields build their global ordinals at refresh, not in the first search after it (a latency spike every
    // refresh while stock changes flow).
    dynamic_templates: [
      {
        attributes_as_keywords: {
          path_match: "attributes.*",
          mapping: { type: "keyword", eager_global_ordinals: true },
        },
      },
    ],
    properties: {
      id: { type: "keyword" },
      // The names customers type into a search box: their words' first 2 to 10 characters are indexed too, so a prefix
      // as typed so far is one term to look up rather than a scan of every word it starts (opensearch-query.ts). The
      // same 100k products and query mix, one segment each, in alternating rounds: 14% more searches a second at 4 in
      // flight, matching and scoring 19% faster, for an index 8% larger; the same hits.
      title: {
        type: "text",
        analyzer: "shop_text",
        index_prefixes: namePrefixes,
        fields: { sort: { type: "keyword", normalizer: "shop_sort" } },
      },
      description: { type: "text", analyzer: "shop_text" },
      tags: {
        type: "keyword",
        eager_global_ordinals: true,
        fields: { text: { type: "text", analyzer: "shop_text", index_prefixes: namePrefixes } },
      },
      attributes: { type: "object", dynamic: true },
      collection_ids: { type: "keyword", eager_global_ordinals: true },
      price_minor: { type: "long" },
      currency: { type: "keyword" },
      available: { type: "long" },
      create_time_ms: { type: "long" },
      // The product as customers get it, returned with hits so no second lookup is needed; never searched.
      product_pb: { type: "binary" },
    },
  },
} as const;

/** What is indexed for a product: the searchable fields and the product itself. */
export function catalogDocument({ product, packed }: StoredProduct): Record<string, unknown> {
  return {
    id: product.id,
    title: product.title,
    description: product.description,
    tags: product.tags,
    attributes: product.attributes,
    collection_ids: product.collectionIds,
    price_minor: product.price ? Number(product.price.amountMinor) : 0,
    currency: product.price?.currencyCode ?? "",
    available: Number(product.available),
    create_time_ms: createTimeMs(product),
    product_pb: base64Encode(unpackEncoding(packed)),
  };
}
