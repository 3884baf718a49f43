import { type CatalogFacet, facetValueLimit, priceBuckets } from "../../domain/catalog-query.js";
import type { KeywordField } from "./keyword-field.js";
import type { SlotValues } from "./slot-values.js";

const priceBucketKeys = priceBuckets().map((bucket) => bucket.key);

/** What facets are counted from: the keyword fields with their postings, and per-slot values. */
export interface FacetSources {
  tags: KeywordField;
  collections: KeywordField;
  /** "key=value" pairs; `attributeValuesOfKey` lists the pair ids of each key id. */
  attributes: KeywordField;
  attributeKeys: ReadonlyMap<string, number>;
  attributeValuesOfKey: ReadonlyArray<number[] | undefined>;
  tagIds: SlotValues;
  collectionIds: SlotValues;
  attributeValueIds: SlotValues;
  priceBucket: Uint8Array;
  /** Live slots per price bucket. */
  priceBucketTotals: Int32Array;
}

/** The slots a query matched; after a scan of every live slot, also the ones it rejected. */
export interface MatchSet {
  matched: Int32Array;
  count: number;
  /** Set when every live slot was examined: then matched = all − rejected. */
  rejected?: Int32Array;
  rejectedCount?: number;
}

/**
 * Counts per value over the matched slots, choosing the cheapest of four ways: when everything matched, the posting
 * sizes; when a full scan rejected fewer than it matched, the sizes minus a walk over the rejected slots; for a few
 * matches, a walk over each match's values; for many matches among candidates, a bitset of the matches checked
 * against each value's posting list (typed arrays only, cheaper than the walk once matches are numerous).
 */
export function countFacets(
  names: readonly string[],
  sources: FacetSources,
  set: MatchSet,
  bits: Uint32Array,
): CatalogFacet[] {
  if (names.length === 0) return [];
  const { matched, count } = set;
  const rejectedCount = set.rejected ? (set.rejectedCount ?? 0) : Number.POSITIVE_INFINITY;
  const complement = rejectedCount < count;
  const dense = !complement && count * 8 > bits.length * 32;
  if (dense) for (let i = 0; i < count; i++) markBit(bits, matched[i] as number);

  const countField = (field: KeywordField, perSlot: SlotValues, only?: number[]) => {
    const counts = new Int32Array(field.values.length);
    if (complement) {
      for (const id of only ?? field.values.keys()) counts[id] = field.count(id);
      walk(perSlot, set.rejected as Int32Array, rejectedCount, counts, -1);
    } else if (dense) {
      for (const id of only ?? field.values.keys()) {
        const list = field.postings[id];
        if (list) counts[id] = countMarked(bits, list.slots, list.size);
      }
    } else {
      walk(perSlot, matched, count, counts, 1);
    }
    return counts;
  };

  const facets = names.map((name): CatalogFacet => {
    if (name === "tags") {
      const counts = countField(sources.tags, sources.tagIds);
      return { name, values: topValues(counts, (id) => sources.tags.values[id] as string) };
    }
    if (name === "collections") {
      const counts = countField(sources.collections, sources.collectionIds);
      return { name, values: topValues(counts, (id) => sources.collections.values[id] as string) };
    }
    if (name === "price") {
      const { priceBucket, priceBucketTotals } = sources;
      const counts = complement ? Int32Array.from(priceBucketTotals) : new Int32Array(priceBucketKeys.length);
      const slots = complement ? (set.rejected as Int32Array) : matched;
      const step = complement ? -1 : 1;
      for (let i = 0, n = complement ? rejectedCount : count; i < n; i++) {
        const bucket = priceBucket[slots[i] as number] as number;
        counts[bucket] = (counts[bucket] as number) + step;
      }
      const values = priceBucketKeys.map((value, i) => ({ value, count: counts[i] as number }));
      return { name, values: values.filter((v) => v.count > 0) };
    }
    const keyId = sources.attributeKeys.get(name.slice("attributes.".length));
    if (keyId === undefined) return { name, values: [] };
    const ofKey = sources.attributeValuesOfKey[keyId] ?? [];
    const counts = countField(sources.attributes, sources.attributeValueIds, ofKey);
    const wanted = new Set(ofKey);
    for (let id = 0; id < counts.length; id++) if (!wanted.has(id)) counts[id] = 0;
    const valueOfPair = (id: number) => {
      const pair = sources.attributes.values[id] as string;
      return pair.slice(pair.indexOf("=") + 1);
    };
    return { name, values: topValues(counts, valueOfPair) };
  });

  if (dense) for (let i = 0; i < count; i++) bits[(matched[i] as number) >>> 5] = 0;
  return facets;
}

/** Adds `step` to the count of every value of the given slots. */
function walk(perSlot: SlotValues, slots: Int32Array, n: number, counts: Int32Array, step: number): void {
  const { counts: valueCounts, values, stride } = perSlot;
  for (let i = 0; i < n; i++) {
    const slot = slots[i] as number;
    const size = valueCounts[slot] as number;
    const base = slot * stride;
    const inline = Math.min(size, stride);
    for (let j = 0; j < inline; j++) {
      const id = values[base + j] as number;
      counts[id] = (counts[id] as number) + step;
    }
    if (size > stride) perSlot.countOverflowInto(slot, counts, step);
  }
}

function markBit(bits: Uint32Array, slot: number): void {
  bits[slot >>> 5] = (bits[slot >>> 5] as number) | (1 << (slot & 31));
}

function countMarked(bits: Uint32Array, slots: Int32Array, size: number): number {
  let count = 0;
  for (let i = 0; i < size; i++) {
    const slot = slots[i] as number;
    if (((bits[slot >>> 5] as number) >>> (slot & 31)) & 1) count++;
  }
  return count;
}

/** Non-zero counts, most frequent first, ties by value; at most `facetValueLimit`. */
function topValues(counts: Int32Array, nameOf: (id: number) => string): Array<{ value: string; count: number }> {
  const values: Array<{ value: string; count: number }> = [];
  for (let id = 0; id < counts.length; id++) {
    const count = counts[id] as number;
    if (count > 0) values.push({ value: nameOf(id), count });
  }
  values.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return values.slice(0, facetValueLimit);
}
