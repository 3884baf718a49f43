import type { CatalogProduct } from "@shop/contracts/shop/search/v1/search_pb.js";
import {
  createTimeMs,
  type PackedProduct,
  type StoredProduct,
  unpackEncoding,
  unpackProduct,
} from "../../domain/catalog-product.js";
import {
  type CatalogFilter,
  type CatalogHit,
  type CatalogQuery,
  type CatalogResult,
  type CatalogSort,
  priceBucketOf,
  priceBuckets,
} from "../../domain/catalog-query.js";
import { foldText } from "../../domain/text-analysis.js";
import type { CatalogIndexVersion } from "../catalog-index.js";
import { countFacets, type FacetSources } from "./facet-counter.js";
import { KeywordField } from "./keyword-field.js";
import { SlotValues } from "./slot-values.js";
import { TextIndex } from "./text-index.js";
import { TopK } from "./top-k.js";

/** A filter with its values turned into ids; `undefined` from compile() means nothing can match. */
interface CompiledFilter {
  inStockOnly: boolean;
  currencyId?: number;
  min?: number;
  max?: number;
  tagIds: number[];
  collectionIds?: number[];
  attributeValueIds: number[][];
}

const noPrice = -1;

/**
 * The first three UTF-16 units of a title key packed into one exact number (48 bits), ordered as the strings are:
 * title sorting compares numbers and looks at whole strings only on ties.
 */
function titlePrefixOf(titleKey: string): number {
  const unit = (i: number) => (i < titleKey.length ? titleKey.charCodeAt(i) : 0);
  return (unit(0) * 65_536 + unit(1)) * 65_536 + unit(2);
}

/** A product's indexed text, in `textFields` order. */
function textOf(product: CatalogProduct): [string, string, string] {
  return [product.title, product.tags.join(" "), product.description];
}

/**
 * One version of the in-process index. Each product has a slot; per-slot typed arrays hold what filters, sorts and
 * facets read, keyword postings find the few products of a tag or collection, and the text index scores words.
 * A query walks its candidates once, checking the filter, counting facets and keeping the page in a top-k; nothing
 * is pre-sorted, so an update costs only the changed product and is searchable as soon as `write` returns.
 */
export class EmbeddedCatalogIndex implements CatalogIndexVersion {
  private readonly slotOf = new Map<string, number>();
  private readonly free: number[] = [];
  private slotCount = 0;
  private capacity = 0;
  private slotsWhenTrimmed = 0;

  private ids: string[] = [];
  /**
   * Each product's packed encoding, shared with the projection: the index keeps no product objects nor their text (a
   * slot's previous text, needed to take it out of the text index, is decoded from here when the slot changes).
   */
  private packed: Array<PackedProduct | undefined> = [];
  /** Folded titles: title sorting reads them for ties and cursors. */
  private titleKeys: string[] = [];
  /** Value ids per slot, flat (see SlotValues): filters and facets read them for many slots per query. */
  private readonly tagIds = new SlotValues(8);
  private readonly collectionIds = new SlotValues(4);
  private readonly attributeValueIds = new SlotValues(8);
  private price = new Float64Array(0);
  private created = new Float64Array(0);
  private available = new Float64Array(0);
  private currency = new Int32Array(0);
  private titlePrefix = new Float64Array(0);
  private priceBucket = new Uint8Array(0);
  /** Live slots per price bucket, for facet counts by complement. */
  private readonly priceBucketTotals = new Int32Array(priceBuckets().length);
  /** Per-query scratch: the slots a query matched and rejected, and the matches as a bitset for facet counting. */
  private matched = new Int32Array(0);
  private rejected = new Int32Array(0);
  private matchBits = new Uint32Array(0);

  private readonly tags = new KeywordField();
  private readonly collections = new KeywordField();
  private readonly currencies = new KeywordField();
  /** Attribute pairs as "key=value" values; `attributeKeyOf[valueId]` is the key's id. */
  private readonly attributes = new KeywordField();
  private readonly attributeKeys = new Map<string, number>();
  private readonly attributeKeyOf: number[] = [];
  private readonly attributeValuesOfKey: number[][] = [];
  private readonly text = new TextIndex();
  private dedupStamp = new Int32Array(0);
  private stamp = 0;

  private readonly facetSources: FacetSources;

  constructor(readonly name: string) {
    // Typed arrays are replaced as they grow, so the price buckets are read through a getter.
    const index = this;
    this.facetSources = {
      tags: this.tags,
      collections: this.collections,
      attributes: this.attributes,
      attributeKeys: this.attributeKeys,
      attributeValuesOfKey: this.attributeValuesOfKey,
      tagIds: this.tagIds,
      collectionIds: this.collectionIds,
      attributeValueIds: this.attributeValueIds,
      get priceBucket() {
        return index.priceBucket;
      },
      priceBucketTotals: this.priceBucketTotals,
    };
  }

  get size(): number {
    return this.slotOf.size;
  }

  private ensureCapacity(slots: number): void {
    if (slots > this.capacity) this.resize(Math.max(slots, this.capacity * 2, 1024));
  }

  /** Gives every per-slot array room for `capacity` slots (at least the slots in use). */
  private resize(capacity: number): void {
    this.capacity = capacity;
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T, next: T) => {
      next.set(old.subarray(0, next.length));
      return next;
    };
    this.price = grow(this.price, new Float64Array(this.capacity));
    this.created = grow(this.created, new Float64Array(this.capacity));
    this.available = grow(this.available, new Float64Array(this.capacity));
    this.currency = grow(this.currency, new Int32Array(this.capacity));
    this.titlePrefix = grow(this.titlePrefix, new Float64Array(this.capacity));
    this.priceBucket = grow(this.priceBucket, new Uint8Array(this.capacity));
    this.matched = new Int32Array(this.capacity);
    this.rejected = new Int32Array(this.capacity);
    this.matchBits = new Uint32Array(Math.ceil(this.capacity / 32));
    this.dedupStamp = grow(this.dedupStamp, new Int32Array(this.capacity));
    this.text.resize(this.capacity);
    for (const values of [this.tagIds, this.collectionIds, this.attributeValueIds]) values.resize(this.capacity);
  }

  write(upserts: readonly StoredProduct[], removals: readonly string[]): void {
    for (const stored of upserts) this.upsert(stored);
    for (const id of removals) this.remove(id);
  }

  /**
   * Writes are searchable at once. After a burst of new products (a build), the room that arrays and postings left
   * for growth (up to half of them) is given back; later writes grow them again.
   */
  async refresh(): Promise<void> {
    if (this.slotCount - this.slotsWhenTrimmed < Math.max(1024, this.slotsWhenTrimmed / 4)) return;
    this.slotsWhenTrimmed = this.slotCount;
    this.resize(this.slotCount);
    this.text.trim();
    for (const field of [this.tags, this.collections, this.attributes, this.currencies])
      for (const list of field.postings) list.trim();
  }

  private upsert({ product, packed }: StoredProduct): void {
    let slot = this.slotOf.get(product.id);
    const isNew = slot === undefined;
    if (slot === undefined) {
      slot = this.free.pop() ?? this.slotCount++;
      this.ensureCapacity(this.slotCount);
      this.slotOf.set(product.id, slot);
      this.ids[slot] = product.id;
    }
    const previous = isNew ? undefined : this.textOf(slot);
    if (!isNew) this.countPriceBucket(slot, -1);
    this.packed[slot] = packed;
    this.price[slot] = product.price ? Number(product.price.amountMinor) : 0;
    this.priceBucket[slot] = priceBucketOf(this.price[slot] as number);
    this.countPriceBucket(slot, +1);
    this.currency[slot] = product.price ? this.currencies.intern(product.price.currencyCode) : noPrice;
    this.created[slot] = createTimeMs(product);
    this.available[slot] = Number(product.available);

    const text = textOf(product);
    if (previous === undefined || text.some((field, i) => field !== previous[i])) {
      this.titleKeys[slot] = foldText(product.title);
      this.titlePrefix[slot] = titlePrefixOf(this.titleKeys[slot] as string);
      this.text.index(slot, text, previous);
    }
    this.moveKeywords(this.tags, this.tagIds, slot, isNew, product.tags);
    this.moveKeywords(this.collections, this.collectionIds, slot, isNew, product.collectionIds);
    const pairs = Object.entries(product.attributes).map(([key, value]) => {
      const id = this.attributes.intern(`${key}=${value}`);
      if (this.attributeKeyOf[id] === undefined) {
        let keyId = this.attributeKeys.get(key);
        if (keyId === undefined) this.attributeKeys.set(key, (keyId = this.attributeKeys.size));
        this.attributeKeyOf[id] = keyId;
        (this.attributeValuesOfKey[keyId] ??= []).push(id);
      }
      return id;
    });
    this.attributes.update(slot, isNew ? [] : this.attributeValueIds.get(slot), pairs);
    this.attributeValueIds.set(slot, pairs);
  }

  private countPriceBucket(slot: number, delta: number): void {
    const bucket = this.priceBucket[slot] as number;
    this.priceBucketTotals[bucket] = (this.priceBucketTotals[bucket] as number) + delta;
  }

  /** The indexed text of a slot, from its stored encoding. */
  private textOf(slot: number): [string, string, string] {
    const packed = this.packed[slot];
    return packed === undefined ? ["", "", ""] : textOf(unpackProduct(packed));
  }

  private moveKeywords(field: KeywordField, perSlot: SlotValues, slot: number, isNew: boolean, values: string[]): void {
    const after = [...new Set(values)].map((value) => field.intern(value));
    field.update(slot, isNew ? [] : perSlot.get(slot), after);
    perSlot.set(slot, after);
  }

  private remove(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    this.slotOf.delete(id);
    this.text.remove(slot, this.textOf(slot));
    this.countPriceBucket(slot, -1);
    this.tags.update(slot, this.tagIds.get(slot), []);
    this.collections.update(slot, this.collectionIds.get(slot), []);
    this.attributes.update(slot, this.attributeValueIds.get(slot), []);
    this.packed[slot] = undefined;
    for (const values of [this.tagIds, this.collectionIds, this.attributeValueIds]) values.set(slot, []);
    this.titleKeys[slot] = "";
    this.free.push(slot);
  }

  /** A product's CatalogProduct encoding. */
  getEncoded(id: string): Uint8Array | undefined {
    const slot = this.slotOf.get(id);
    const packed = slot === undefined ? undefined : this.packed[slot];
    return packed === undefined ? undefined : unpackEncoding(packed);
  }

  private compile(filter: CatalogFilter): CompiledFilter | undefined {
    const compiled: CompiledFilter = {
      inStockOnly: filter.inStockOnly,
      min: filter.minPriceMinor,
      max: filter.maxPriceMinor,
      tagIds: [],
      attributeValueIds: [],
    };
    if (filter.currencyCode) {
      compiled.currencyId = this.currencies.idOf(filter.currencyCode);
      if (compiled.currencyId === undefined) return undefined;
    }
    for (const tag of filter.tags) {
      const id = this.tags.idOf(tag);
      if (id === undefined) return undefined;
      compiled.tagIds.push(id);
    }
    if (filter.collectionIds.length > 0) {
      compiled.collectionIds = filter.collectionIds
        .map((id) => this.collections.idOf(id))
        .filter((id) => id !== undefined);
      if (compiled.collectionIds.length === 0) return undefined;
    }
    for (const { key, values } of filter.attributes) {
      const ids = values.map((value) => this.attributes.idOf(`${key}=${value}`)).filter((id) => id !== undefined);
      if (ids.length === 0) return undefined;
      compiled.attributeValueIds.push(ids);
    }
    return compiled;
  }

  private passes(slot: number, f: CompiledFilter): boolean {
    if (f.inStockOnly && (this.available[slot] as number) <= 0) return false;
    if (f.currencyId !== undefined && this.currency[slot] !== f.currencyId) return false;
    if (f.min !== undefined && (this.price[slot] as number) < f.min) return false;
    if (f.max !== undefined && (this.price[slot] as number) > f.max) return false;
    for (const id of f.tagIds) if (!this.tagIds.has(slot, id)) return false;
    if (f.collectionIds !== undefined && !this.collectionIds.hasAny(slot, f.collectionIds)) return false;
    for (const anyOf of f.attributeValueIds) if (!this.attributeValueIds.hasAny(slot, anyOf)) return false;
    return true;
  }

  /**
   * Candidates of a query without text: the smallest posting the filter implies (a tag, the union of the wanted
   * collections, or of one attribute's values), else undefined: every slot.
   */
  private candidatesWithoutText(f: CompiledFilter): ArrayLike<number> | undefined {
    const options: Array<Array<{ field: KeywordField; id: number }>> = [];
    for (const id of f.tagIds) options.push([{ field: this.tags, id }]);
    if (f.collectionIds) options.push(f.collectionIds.map((id) => ({ field: this.collections, id })));
    for (const anyOf of f.attributeValueIds) options.push(anyOf.map((id) => ({ field: this.attributes, id })));
    let best: Array<{ field: KeywordField; id: number }> | undefined;
    let bestSize = this.slotOf.size;
    for (const option of options) {
      const size = option.reduce((sum, { field, id }) => sum + field.count(id), 0);
      if (size < bestSize) {
        best = option;
        bestSize = size;
      }
    }
    if (best === undefined) return undefined;
    if (best.length === 1) {
      const list = best[0]?.field.postings[best[0].id];
      return list ? list.slots.subarray(0, list.size) : [];
    }
    const stamp = ++this.stamp;
    const union: number[] = [];
    for (const { field, id } of best) {
      const list = field.postings[id];
      if (!list) continue;
      for (let i = 0; i < list.size; i++) {
        const slot = list.slots[i] as number;
        if (this.dedupStamp[slot] === stamp) continue;
        this.dedupStamp[slot] = stamp;
        union.push(slot);
      }
    }
    return union;
  }

  /** Primary sort keys per slot, signed so that smaller always comes first; relevance uses the text scores. */
  private primaryKeys(sort: CatalogSort): { keys?: Float64Array; sign: 1 | -1 } {
    switch (sort) {
      case "relevance":
        return { sign: -1 };
      case "price_asc":
        return { keys: this.price, sign: 1 };
      case "price_desc":
        return { keys: this.price, sign: -1 };
      case "newest":
        return { keys: this.created, sign: -1 };
      case "title":
        return { keys: this.titlePrefix, sign: 1 };
    }
  }

  search(query: CatalogQuery): CatalogResult {
    const filter = this.compile(query.filter);
    if (filter === undefined)
      return { hits: [], total: 0, facets: query.facets.map((name) => ({ name, values: [] })), hasMore: false };

    // Candidates: the text matches, else the smallest posting the filter implies, else every slot (undefined).
    let candidates: ArrayLike<number> | undefined;
    let scores: Float64Array | undefined;
    if (query.words.length > 0) {
      const match = this.text.match(query.words);
      candidates = match.slots;
      scores = match.scores;
    } else {
      candidates = this.candidatesWithoutText(filter);
    }

    const byTitle = query.sort === "title";
    const { keys, sign } = this.primaryKeys(query.sort);
    const { ids, titleKeys } = this;
    // Order of two slots with equal primary keys: the full title (the key only holds its first letters), then id.
    const tie = (a: number, b: number): number => {
      if (byTitle) {
        const ta = titleKeys[a] as string;
        const tb = titleKeys[b] as string;
        if (ta !== tb) return ta < tb ? -1 : 1;
      }
      const ia = ids[a] as string;
      const ib = ids[b] as string;
      return ia < ib ? -1 : ia > ib ? 1 : 0;
    };

    let cursor: { key: number; title: string; id: string } | undefined;
    if (query.after) {
      let value = query.after.value;
      if (query.sort === "relevance" && candidates && scores) {
        // Scores move as the corpus changes: re-score the last hit now, so the cursor sits where that hit is now.
        const anchor = this.slotOf.get(query.after.id);
        for (let i = 0; anchor !== undefined && i < candidates.length; i++) {
          if (candidates[i] === anchor) value = scores[i] as number;
        }
      }
      cursor = byTitle
        ? { key: titlePrefixOf(String(value)), title: String(value), id: query.after.id }
        : { key: sign * Number(value), title: "", id: query.after.id };
    }
    // Whether `slot` (primary key `key`) comes after the cursor.
    const followsCursor = (slot: number, key: number): boolean => {
      if (cursor === undefined || key > cursor.key) return true;
      if (key < cursor.key) return false;
      if (byTitle) {
        const title = titleKeys[slot] as string;
        if (title !== cursor.title) return title > cursor.title;
      }
      return (ids[slot] as string) > cursor.id;
    };

    const { matched, rejected } = this;
    let rejectedCount = 0;
    const top = new TopK(query.pageSize, tie);
    let total = 0;
    let following = 0;
    const count = candidates ? candidates.length : this.slotCount;
    for (let i = 0; i < count; i++) {
      const slot = candidates ? (candidates[i] as number) : i;
      if (candidates === undefined && this.packed[slot] === undefined) continue;
      if (!this.passes(slot, filter)) {
        if (candidates === undefined) rejected[rejectedCount++] = slot;
        continue;
      }
      matched[total++] = slot;
      const score = scores ? (scores[i] as number) : 0;
      const key = keys ? sign * (keys[slot] as number) : sign * score;
      if (!followsCursor(slot, key)) continue;
      following++;
      top.offer(slot, key, score);
    }

    const hits: CatalogHit[] = top.result().map(({ slot, score }) => ({
      id: ids[slot] as string,
      encoded: unpackEncoding(this.packed[slot] as PackedProduct),
      score: query.sort === "relevance" ? score : 0,
      sortValue: byTitle ? (titleKeys[slot] as string) : keys ? (keys[slot] as number) : score,
    }));
    const facets = countFacets(
      query.facets,
      this.facetSources,
      { matched, count: total, rejected: candidates === undefined ? rejected : undefined, rejectedCount },
      this.matchBits,
    );
    return { hits, total, facets, hasMore: following > hits.length };
  }

  /**
   * Estimated bytes of this version's own structures: typed arrays, postings, dictionaries, per-slot references and
   * the title keys it derives. The products' encodings are shared with the projection.
   */
  get bytes(): number {
    const typedPerSlot = 8 * 4 + 4 * 3 + 1 + 1 / 8;
    const referencesPerSlot = 3 * 8 + 48;
    let bytes = this.capacity * (typedPerSlot + referencesPerSlot);
    bytes += this.text.bytes + this.tags.bytes + this.collections.bytes + this.attributes.bytes + this.currencies.bytes;
    bytes += this.tagIds.bytes + this.collectionIds.bytes + this.attributeValueIds.bytes;
    for (let slot = 0; slot < this.slotCount; slot++) bytes += (this.titleKeys[slot]?.length ?? 0) * 2 + 32;
    return Math.round(bytes);
  }
}
