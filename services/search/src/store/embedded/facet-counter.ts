import { type CatalogFacet, facetValueLimit, priceBucketOf, priceBuckets } from "../../domain/catalog-query.js";
import type { KeywordField } from "./keyword-field.js";
import { listSlots } from "./slot-bits.js";
import type { SlotValues } from "./slot-values.js";

const priceBucketKeys = priceBuckets().map((bucket) => bucket.key);

/** A faceted field: its values with their slots, and each slot's value ids. */
export interface FacetField {
  values: KeywordField;
  perSlot: SlotValues;
}

/** What facets are counted from. */
export interface FacetSources {
  tags: FacetField;
  collections: FacetField;
  /** "key=value" pairs; `attributeValuesOfKey` lists the pair ids of each key id. */
  attributes: FacetField;
  attributeKeys: ReadonlyMap<string, number>;
  attributeValuesOfKey: ReadonlyArray<number[] | undefined>;
  /** Price buckets as values (id = bucket index), and each slot's price to find its bucket. */
  priceBuckets: KeywordField;
  price: Float64Array;
}

/** A query's matches: `count` slots set in `bits`, out of the `liveCount` listed products set in `live`. */
export interface MatchSet {
  bits: Uint32Array;
  count: number;
  live: Uint32Array;
  liveCount: number;
  /** Words of the bitsets in use. */
  words: number;
}

/**
 * Costs of a walk relative to a popcount of one bitset word (about 2 ns), measured at a million products: per slot
 * walked (listing it, and the cache miss of reading its values), per value of the slot, and per slot for prices
 * (a float read at a random place and a bucket search).
 */
const walkCostPerSlot = 5;
const walkCostPerValue = 2;
const walkCostPerPrice = 10;

/** One requested facet: the field it counts and the value ids it reports. */
interface FacetPlan {
  name: string;
  field?: FacetField;
  isPrice: boolean;
  /** The values reported (all of the field's when undefined). */
  only?: readonly number[];
  walk: boolean;
  counts: Int32Array;
}

/**
 * Exact counts per value over a query's matches. Each facet takes the cheaper of two ways: a walk over the matched
 * slots adding their values (or over the unmatched listed slots, subtracting them from the values' totals, when
 * fewer than half are matched — a broad query costs as much as a narrow one), or per value the size of its bitset's
 * AND with the matches (a popcount over the words; for a rare value, a membership test of each of its slots). The
 * walk wins for fields with few values per product and few matches, the bitsets for many matches and few values.
 * `slotScratch` is room for one slot list of the index's capacity.
 */
export function countFacets(
  names: readonly string[],
  sources: FacetSources,
  set: MatchSet,
  slotScratch: Int32Array,
): CatalogFacet[] {
  if (names.length === 0) return [];
  const { bits, count, live, liveCount, words } = set;
  const complement = liveCount - count < count;
  const walked = complement ? liveCount - count : count;

  const plans = names.map((name): FacetPlan => {
    const plan = { name, isPrice: false, walk: false, counts: new Int32Array(0) };
    if (name === "tags") return { ...plan, field: sources.tags };
    if (name === "collections") return { ...plan, field: sources.collections };
    if (name === "price") return { ...plan, isPrice: true, only: priceBucketKeys.map((_, i) => i) };
    if (!name.startsWith("attributes.")) return plan;
    const keyId = sources.attributeKeys.get(name.slice("attributes.".length));
    if (keyId === undefined) return plan;
    return { ...plan, field: sources.attributes, only: sources.attributeValuesOfKey[keyId] ?? [] };
  });

  for (const plan of plans) {
    const values = plan.isPrice ? sources.priceBuckets : plan.field?.values;
    if (!values) continue;
    const ids = plan.only ?? values.values.keys();
    let bitsCost = 0;
    for (const id of ids) bitsCost += values.countCost(id, words);
    // A walk reads every value of a slot (all its attribute pairs, not only the key's).
    let walkCost = walkCostPerPrice;
    if (!plan.isPrice) {
      let held = 0;
      for (let id = 0; id < values.values.length; id++) held += values.count(id);
      walkCost = walkCostPerSlot + (held / Math.max(1, liveCount)) * walkCostPerValue;
    }
    plan.walk = walked * walkCost < bitsCost;
    plan.counts = new Int32Array(values.values.length);
    if (!plan.walk)
      for (const id of plan.only ?? values.values.keys()) plan.counts[id] = values.countIn(id, bits, words);
  }

  if (plans.some((plan) => plan.walk)) {
    const n = complement ? listSlots(live, words, slotScratch, bits) : listSlots(bits, words, slotScratch);
    const step = complement ? -1 : 1;
    for (const plan of plans) {
      if (!plan.walk) continue;
      const values = plan.isPrice ? sources.priceBuckets : (plan.field as FacetField).values;
      if (complement) for (const id of plan.only ?? values.values.keys()) plan.counts[id] = values.count(id);
      if (plan.isPrice) walkPrices(sources.price, slotScratch, n, plan.counts, step);
      else walk((plan.field as FacetField).perSlot, slotScratch, n, plan.counts, step);
    }
  }

  return plans.map((plan): CatalogFacet => {
    const { name, counts } = plan;
    if (plan.isPrice) {
      const values = priceBucketKeys.map((value, i) => ({ value, count: counts[i] ?? 0 }));
      return { name, values: values.filter((v) => v.count > 0) };
    }
    if (!plan.field) return { name, values: [] };
    if (plan.only) {
      // A walk counts every pair of the matched slots: keep the key's.
      const wanted = new Set(plan.only);
      for (let id = 0; id < counts.length; id++) if (!wanted.has(id)) counts[id] = 0;
    }
    const field = plan.field.values;
    const nameOf = plan.only
      ? (id: number) => {
          const pair = field.values[id] as string;
          return pair.slice(pair.indexOf("=") + 1);
        }
      : (id: number) => field.values[id] as string;
    return { name, values: topValues(counts, nameOf) };
  });
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

/** Adds `step` to the count of the price bucket of each given slot. */
function walkPrices(price: Float64Array, slots: Int32Array, n: number, counts: Int32Array, step: number): void {
  for (let i = 0; i < n; i++) {
    const bucket = priceBucketOf(price[slots[i] as number] as number);
    counts[bucket] = (counts[bucket] as number) + step;
  }
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
