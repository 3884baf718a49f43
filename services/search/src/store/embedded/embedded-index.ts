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
import { clearBit, countBits, intersectInto, resizeBits, setBit, wordsFor } from "./slot-bits.js";
import { SlotOrder } from "./slot-order.js";
import { SlotValues } from "./slot-values.js";
import { TextIndex, type TextPlan } from "./text-index.js";
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

/** Where the previous page ended, in the terms of the sort: its primary key (signed), title key and id. */
interface Cursor {
  key: number;
  title: string;
  id: string;
}

const noPrice = -1;

/**
 * A walk down a presorted order gives up after this many times the slots it expects to visit (the page size over
 * the share of the catalog that matches), plus a margin: matches bunched at the far end of the order (a filter that
 * correlates with the sort) then cost a bounded walk and a top-k, never a walk over the whole catalog.
 */
const walkBudgetFactor = 8;
const walkBudgetMargin = 1024;

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
 * One version of the in-process index. Each product has a slot; per-slot typed arrays hold what sorts and facets
 * read, keyword fields hold each filter value's slots (a list, or a bitset when frequent), the text index scores
 * words, and three presorted orders (price, newest, title) list the slots as those sorts read them.
 *
 * A query builds its matches as a bitset: the text matches (or every listed product) ANDed with each filter's
 * slots, so the total is a popcount. The page comes from walking the sort's presorted order until it holds a page of
 * matches when the matches are many, else from a top-k over the matches; relevance scores only the matches. Facets
 * are counted from the bitset (see countFacets). An update costs the changed product (its postings, its bits, its
 * place in the orders whose keys changed) and is searchable as soon as `write` returns.
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
  /** Value ids per slot, flat (see SlotValues): facet walks read them for many slots per query. */
  private readonly tagIds = new SlotValues(8);
  private readonly collectionIds = new SlotValues(4);
  private readonly attributeValueIds = new SlotValues(8);
  private price = new Float64Array(0);
  private created = new Float64Array(0);
  private currency = new Int32Array(0);
  private titlePrefix = new Float64Array(0);
  /** Listed products, and those with stock: where a query without text or with `in_stock_only` starts. */
  private live: Uint32Array = new Uint32Array(0);
  private inStock: Uint32Array = new Uint32Array(0);
  /** Per-query scratch: the matches, a second bitset to build a filter's slots in, and a slot list for facet walks. */
  private match = new Uint32Array(0);
  private spare = new Uint32Array(0);
  private slotScratch = new Int32Array(0);

  private readonly tags = new KeywordField();
  private readonly collections = new KeywordField();
  private readonly currencies = new KeywordField();
  /** Attribute pairs as "key=value" values; `attributeKeyOf[valueId]` is the key's id. */
  private readonly attributes = new KeywordField();
  private readonly attributeKeys = new Map<string, number>();
  private readonly attributeKeyOf: number[] = [];
  private readonly attributeValuesOfKey: number[][] = [];
  /** Slots per price facet bucket (value id = bucket index). */
  private readonly priceBuckets = new KeywordField();
  private readonly text = new TextIndex();

  /** Listed slots by price, by creation time (newest first) and by title key; ties by slot (see SlotOrder). */
  private readonly byPrice = new SlotOrder((a, b) => (this.price[a] as number) - (this.price[b] as number) || a - b);
  private readonly byNewest = new SlotOrder(
    (a, b) => (this.created[b] as number) - (this.created[a] as number) || a - b,
  );
  private readonly byTitle = new SlotOrder((a, b) => {
    // The packed prefixes decide most comparisons without reading the strings.
    const prefixes = (this.titlePrefix[a] as number) - (this.titlePrefix[b] as number);
    if (prefixes !== 0) return prefixes;
    const ta = this.titleKeys[a] as string;
    const tb = this.titleKeys[b] as string;
    return ta < tb ? -1 : ta > tb ? 1 : a - b;
  });

  private readonly facetSources: FacetSources;

  constructor(readonly name: string) {
    for (const bucket of priceBuckets()) this.priceBuckets.intern(bucket.key);
    // Typed arrays are replaced as they grow, so prices are read through a getter.
    const index = this;
    this.facetSources = {
      tags: { values: this.tags, perSlot: this.tagIds },
      collections: { values: this.collections, perSlot: this.collectionIds },
      attributes: { values: this.attributes, perSlot: this.attributeValueIds },
      attributeKeys: this.attributeKeys,
      attributeValuesOfKey: this.attributeValuesOfKey,
      priceBuckets: this.priceBuckets,
      get price() {
        return index.price;
      },
    };
  }

  get size(): number {
    return this.slotOf.size;
  }

  private compareIds(a: number, b: number): number {
    const ia = this.ids[a] as string;
    const ib = this.ids[b] as string;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  }

  private ensureCapacity(slots: number): void {
    if (slots > this.capacity) this.resize(Math.max(slots, this.capacity * 2, 1024));
  }

  /** Gives every per-slot array room for `capacity` slots (at least the slots in use). */
  private resize(capacity: number): void {
    this.capacity = capacity;
    const grow = <T extends Float64Array | Int32Array>(old: T, next: T) => {
      next.set(old.subarray(0, next.length));
      return next;
    };
    this.price = grow(this.price, new Float64Array(this.capacity));
    this.created = grow(this.created, new Float64Array(this.capacity));
    this.currency = grow(this.currency, new Int32Array(this.capacity));
    this.titlePrefix = grow(this.titlePrefix, new Float64Array(this.capacity));
    this.live = resizeBits(this.live, this.capacity);
    this.inStock = resizeBits(this.inStock, this.capacity);
    this.match = new Uint32Array(wordsFor(this.capacity));
    this.spare = new Uint32Array(wordsFor(this.capacity));
    this.slotScratch = new Int32Array(this.capacity);
    this.text.resize(this.capacity);
    for (const values of [this.tagIds, this.collectionIds, this.attributeValueIds]) values.resize(this.capacity);
    for (const field of this.keywordFields()) field.resize(this.capacity);
  }

  private keywordFields(): KeywordField[] {
    return [this.tags, this.collections, this.attributes, this.currencies, this.priceBuckets];
  }

  write(upserts: readonly StoredProduct[], removals: readonly string[]): void {
    for (const stored of upserts) this.upsert(stored);
    for (const id of removals) this.remove(id);
  }

  /**
   * Writes are searchable at once. After a burst of new products (a build), the room that arrays, postings and
   * orders left for growth (up to half of them) is given back; later writes grow them again.
   */
  async refresh(): Promise<void> {
    if (this.slotCount - this.slotsWhenTrimmed < Math.max(1024, this.slotsWhenTrimmed / 4)) return;
    this.slotsWhenTrimmed = this.slotCount;
    this.resize(this.slotCount);
    this.text.trim();
    for (const field of this.keywordFields()) field.trim();
    for (const order of [this.byPrice, this.byNewest, this.byTitle]) order.trim();
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
    const price = product.price ? Number(product.price.amountMinor) : 0;
    const created = createTimeMs(product);
    const text = textOf(product);
    const textChanged = previous === undefined || text.some((field, i) => field !== previous[i]);
    const titleKey = textChanged ? foldText(product.title) : (this.titleKeys[slot] as string);

    // An order moves a slot only when its key changes, taking it out while the old key is still in place.
    const movePrice = isNew || price !== this.price[slot];
    const moveNewest = isNew || created !== this.created[slot];
    const moveTitle = isNew || titleKey !== this.titleKeys[slot];
    if (!isNew) {
      if (movePrice) {
        this.byPrice.remove(slot);
        this.priceBuckets.remove(priceBucketOf(this.price[slot] as number), slot);
      }
      if (moveNewest) this.byNewest.remove(slot);
      if (moveTitle) this.byTitle.remove(slot);
    }
    this.packed[slot] = packed;
    this.price[slot] = price;
    this.created[slot] = created;
    this.titleKeys[slot] = titleKey;
    this.titlePrefix[slot] = titlePrefixOf(titleKey);
    if (movePrice) {
      this.byPrice.insert(slot);
      this.priceBuckets.add(priceBucketOf(price), slot);
    }
    if (moveNewest) this.byNewest.insert(slot);
    if (moveTitle) this.byTitle.insert(slot);

    setBit(this.live, slot);
    if (product.available > 0n) setBit(this.inStock, slot);
    else clearBit(this.inStock, slot);
    const currencyId = product.price ? this.currencies.intern(product.price.currencyCode) : noPrice;
    if (isNew || currencyId !== this.currency[slot]) {
      if (!isNew && this.currency[slot] !== noPrice) this.currencies.remove(this.currency[slot] as number, slot);
      if (currencyId !== noPrice) this.currencies.add(currencyId, slot);
      this.currency[slot] = currencyId;
    }

    if (textChanged) this.text.index(slot, text, previous);
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
    this.byPrice.remove(slot);
    this.byNewest.remove(slot);
    this.byTitle.remove(slot);
    this.priceBuckets.remove(priceBucketOf(this.price[slot] as number), slot);
    if (this.currency[slot] !== noPrice) this.currencies.remove(this.currency[slot] as number, slot);
    this.currency[slot] = noPrice;
    clearBit(this.live, slot);
    clearBit(this.inStock, slot);
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

  /** Narrows `match` to the filter: a bitset AND per keyword constraint, then the price range. */
  private applyFilter(f: CompiledFilter, words: number): void {
    const { match } = this;
    if (f.inStockOnly) intersectInto(match, this.inStock, words);
    if (f.currencyId !== undefined) this.intersectAnyOf(this.currencies, [f.currencyId], words);
    for (const id of f.tagIds) this.intersectAnyOf(this.tags, [id], words);
    if (f.collectionIds) this.intersectAnyOf(this.collections, f.collectionIds, words);
    for (const anyOf of f.attributeValueIds) this.intersectAnyOf(this.attributes, anyOf, words);
    if (f.min !== undefined || f.max !== undefined) this.intersectPriceRange(f.min, f.max, words);
  }

  /** match = match ∩ (slots of any of the values `ids`). */
  private intersectAnyOf(field: KeywordField, ids: readonly number[], words: number): void {
    const only = ids.length === 1 ? field.bitsOf(ids[0] as number) : undefined;
    if (only) {
      intersectInto(this.match, only, words);
      return;
    }
    this.spare.fill(0, 0, words);
    for (const id of ids) field.addSlotsTo(id, this.spare, words);
    intersectInto(this.match, this.spare, words);
  }

  /**
   * match = match ∩ (prices within the bounds), by the cheapest of three: clearing the slots outside the bounds (the
   * two ends of the price order), marking the stretch between them in `spare` for an AND, or checking each match's
   * price. A wide range of a broad query thus costs its few outsiders, a narrow one its few insiders.
   */
  private intersectPriceRange(min: number | undefined, max: number | undefined, words: number): void {
    const { match, price, byPrice } = this;
    const from = min === undefined ? byPrice.start() : byPrice.seek((slot) => (price[slot] as number) < min);
    const to = max === undefined ? byPrice.end() : byPrice.seek((slot) => (price[slot] as number) <= max);
    const inside = byPrice.distance(from, to);
    const outside = byPrice.size - inside;
    // A per-match check reads prices at random places: twice a marked slot's cost.
    const checks = countBits(match, words) * 2;
    if (outside <= inside && outside <= checks) {
      byPrice.markRange(byPrice.start(), from, match, true);
      byPrice.markRange(to, byPrice.end(), match, true);
    } else if (inside <= checks) {
      this.spare.fill(0, 0, words);
      byPrice.markRange(from, to, this.spare);
      intersectInto(match, this.spare, words);
    } else {
      const low = min ?? Number.NEGATIVE_INFINITY;
      const high = max ?? Number.POSITIVE_INFINITY;
      for (let w = 0; w < words; w++) {
        let rest = match[w] as number;
        while (rest !== 0) {
          const lowest = rest & -rest;
          rest ^= lowest;
          const amount = price[(w << 5) | (31 - Math.clz32(lowest))] as number;
          if (amount < low || amount > high) match[w] = (match[w] as number) & ~lowest;
        }
      }
    }
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
    const nothing = { hits: [], total: 0, facets: query.facets.map((name) => ({ name, values: [] })), hasMore: false };
    const filter = this.compile(query.filter);
    if (filter === undefined) return nothing;

    // The matches: the text's (or every listed product), narrowed by the filter.
    const words = wordsFor(this.slotCount);
    const { match } = this;
    let plan: TextPlan | undefined;
    if (query.words.length > 0) {
      plan = this.text.plan(query.words);
      if (plan === undefined) return nothing;
      this.text.matchInto(plan, match, this.spare, words);
    } else {
      match.set(this.live.subarray(0, words));
    }
    this.applyFilter(filter, words);
    const total = countBits(match, words);
    if (total === 0) return nothing;

    const byTitle = query.sort === "title";
    const { keys, sign } = this.primaryKeys(query.sort);
    const relevance = keys === undefined;
    if (relevance && plan) this.text.scoreInto(plan, match, words, total);
    const text = this.text;

    let cursor: Cursor | undefined;
    if (query.after) {
      let value = query.after.value;
      if (relevance && plan) {
        // Scores move as the corpus changes: re-score the last hit now, so the cursor sits where that hit is now.
        const anchor = this.slotOf.get(query.after.id);
        const score = anchor === undefined ? undefined : this.text.scoreOne(plan, anchor);
        if (score !== undefined) value = score;
      }
      cursor = byTitle
        ? { key: titlePrefixOf(String(value)), title: String(value), id: query.after.id }
        : { key: sign * Number(value), title: "", id: query.after.id };
    }

    const page =
      (relevance ? undefined : this.pageFromOrder(query, filter, total, cursor)) ??
      this.pageByTopK(query.pageSize, total, words, keys ?? (plan ? text.scores : undefined), sign, byTitle, cursor);

    const hits: CatalogHit[] = page.slots.map((slot) => {
      const score = relevance && plan ? text.scoreOf(slot) : 0;
      return {
        id: this.ids[slot] as string,
        encoded: this.packed[slot] as PackedProduct,
        score,
        sortValue: byTitle ? (this.titleKeys[slot] as string) : keys ? (keys[slot] as number) : score,
      };
    });
    const facets = countFacets(
      query.facets,
      this.facetSources,
      { bits: match, count: total, live: this.live, liveCount: this.slotOf.size, words },
      this.slotScratch,
    );
    return { hits, total, facets, hasMore: page.hasMore };
  }

  /** Whether `slot` (primary key `key`) comes after the cursor. */
  private follows(cursor: Cursor | undefined, byTitle: boolean, slot: number, key: number): boolean {
    if (cursor === undefined || key > cursor.key) return true;
    if (key < cursor.key) return false;
    if (byTitle) {
      const title = this.titleKeys[slot] as string;
      if (title !== cursor.title) return title > cursor.title;
    }
    return (this.ids[slot] as string) > cursor.id;
  }

  /**
   * The page as the first matches after the cursor in a top-k over every match, by `sign · keys[slot]` (all equal
   * without keys: relevance without text).
   */
  private pageByTopK(
    pageSize: number,
    total: number,
    words: number,
    keys: Float64Array | undefined,
    sign: number,
    byTitle: boolean,
    cursor: Cursor | undefined,
  ): { slots: number[]; hasMore: boolean } {
    const { match } = this;
    const top = new TopK(pageSize, (a, b) => this.tieOrder(byTitle, a, b));
    let following = cursor === undefined ? total : 0;
    for (let w = 0, seen = 0; w < words && seen < total; w++) {
      let rest = match[w] as number;
      while (rest !== 0) {
        const lowest = rest & -rest;
        rest ^= lowest;
        seen++;
        const slot = (w << 5) | (31 - Math.clz32(lowest));
        const key = keys ? sign * (keys[slot] as number) : 0;
        if (cursor !== undefined) {
          if (!this.follows(cursor, byTitle, slot, key)) continue;
          following++;
        }
        if (key <= top.worst) top.offer(slot, key);
      }
    }
    const slots = top.result();
    return { slots, hasMore: following > slots.length };
  }

  /**
   * The page read from the sort's presorted order: from the cursor on, the matches that follow it, until the page
   * and one more (for `hasMore`) are found and the next slot's key differs from the last one found. The order breaks
   * ties by slot, so the tie group at the end of the page is read whole, and what was found is then sorted by the
   * sort's full order (key, title, id). Undefined when matches are too few for the walk to pay off, or the walk gives
   * up (see walkBudgetFactor); then the caller ranks every match instead.
   */
  private pageFromOrder(
    query: CatalogQuery,
    filter: CompiledFilter,
    total: number,
    cursor: Cursor | undefined,
  ): { slots: number[]; hasMore: boolean } | undefined {
    const need = query.pageSize + 1;
    const expected = (need * this.slotOf.size) / total;
    if (expected * 4 > total) return undefined;
    let budget = Math.ceil(expected * walkBudgetFactor) + walkBudgetMargin;
    const { match, price, titleKeys } = this;
    const byTitle = query.sort === "title";
    const { keys, sign } = this.primaryKeys(query.sort);
    const keyOf = (slot: number) => sign * ((keys as Float64Array)[slot] as number);
    const sameKey = byTitle
      ? (a: number, b: number) => titleKeys[a] === titleKeys[b]
      : (a: number, b: number) => keyOf(a) === keyOf(b);
    // Price bounds end the walk early when it runs along prices.
    const byPrice = query.sort === "price_asc" || query.sort === "price_desc";
    const low = byPrice ? (filter.min ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY;
    const high = byPrice ? (filter.max ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const found: number[] = [];
    let gaveUp = false;
    const visit = (slot: number): boolean => {
      const amount = price[slot] as number;
      if (amount < low || amount > high) return false;
      if (found.length >= need && !sameKey(slot, found[found.length - 1] as number)) return false;
      if (--budget < 0) return !(gaveUp = true);
      if (
        (((match[slot >>> 5] as number) >>> (slot & 31)) & 1) === 1 &&
        this.follows(cursor, byTitle, slot, keyOf(slot))
      )
        found.push(slot);
      return true;
    };

    if (query.sort === "price_desc") {
      // Walked from the expensive end of the ascending price order, from the cursor's price or the upper bound down.
      const top = Math.min(high, cursor ? -cursor.key : Number.POSITIVE_INFINITY);
      this.byPrice.backward(
        this.byPrice.seek((slot) => (price[slot] as number) <= top),
        visit,
      );
    } else {
      const order = query.sort === "price_asc" ? this.byPrice : query.sort === "newest" ? this.byNewest : this.byTitle;
      // From the first slot of the cursor's key (the slots of that key before it are skipped as not following it),
      // or of the lower price bound.
      const before = (slot: number): boolean => {
        if (byPrice && (price[slot] as number) < low) return true;
        if (cursor === undefined) return false;
        return byTitle ? (titleKeys[slot] as string) < cursor.title : keyOf(slot) < cursor.key;
      };
      order.forward(order.seek(before), visit);
    }
    if (gaveUp) return undefined;
    found.sort((a, b) => keyOf(a) - keyOf(b) || this.tieOrder(byTitle, a, b));
    return { slots: found.slice(0, query.pageSize), hasMore: found.length > query.pageSize };
  }

  /** Order of two slots with equal primary keys: the full title (the key only holds its first letters), then id. */
  private tieOrder(byTitle: boolean, a: number, b: number): number {
    if (byTitle) {
      const ta = this.titleKeys[a] as string;
      const tb = this.titleKeys[b] as string;
      if (ta !== tb) return ta < tb ? -1 : 1;
    }
    return this.compareIds(a, b);
  }

  /**
   * Estimated bytes of this version's own structures: typed arrays, bitsets, postings, orders, dictionaries, per-slot
   * references and the title keys it derives. The products' encodings are shared with the projection.
   */
  get bytes(): number {
    const typedPerSlot = 8 * 3 + 4 * 2 + 4 / 8;
    const referencesPerSlot = 3 * 8 + 48;
    let bytes = this.capacity * (typedPerSlot + referencesPerSlot);
    bytes += this.text.bytes;
    for (const field of this.keywordFields()) bytes += field.bytes;
    bytes += this.tagIds.bytes + this.collectionIds.bytes + this.attributeValueIds.bytes;
    bytes += this.byPrice.bytes + this.byNewest.bytes + this.byTitle.bytes;
    for (let slot = 0; slot < this.slotCount; slot++) bytes += (this.titleKeys[slot]?.length ?? 0) * 2 + 32;
    return Math.round(bytes);
  }
}
