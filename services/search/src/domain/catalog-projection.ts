import { create } from "@bufbuild/protobuf";
import type { EventMeta } from "@shop/contracts/shop/events/v1/event_pb.js";
import type { StockChanged } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import type {
  CollectionChanged,
  ProductArchived,
  ProductCreated,
  ProductUpdated,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import type { Collection, Product } from "@shop/contracts/shop/products/v1/product_pb.js";
import {
  type CatalogCollection,
  CatalogCollectionSchema,
  type CatalogProduct,
} from "@shop/contracts/shop/search/v1/search_pb.js";
import {
  applyStock,
  catalogProductOf,
  isListed,
  type PackedProduct,
  packEncoding,
  type StoredProduct,
  storedProductOf,
  unpackEncoding,
  unpackProduct,
} from "./catalog-product.js";
import { Numbering } from "./numbering.js";

/** The events the catalog is built from: products and collections from PRODUCTS, stock from INVENTORY. */
export type CatalogEvent = ProductCreated | ProductUpdated | ProductArchived | CollectionChanged | StockChanged;

/** What an event did to the searchable set: products to (re)index and ids to drop. Empty for duplicates. */
export interface CatalogChange {
  upserts: StoredProduct[];
  removals: string[];
}

/**
 * The projection's state, one record per product, SKU and collection: what a snapshot stores. A listed product comes
 * as its CatalogProduct encoding.
 */
export type ProjectionRecord =
  | { kind: "product"; id: string; version: bigint; skus: string[]; encoded?: Uint8Array }
  | { kind: "stock"; sku: string; version: bigint; available: bigint }
  | { kind: "collection"; version: bigint; collection: Collection };

const noChange: CatalogChange = Object.freeze({ upserts: [], removals: [] }) as CatalogChange;

interface CollectionEntry {
  version: number;
  collection: Collection;
}

/** The aggregate version an event brings; events published without one fall back to the payload's own counter. */
function versionOf(meta: EventMeta | undefined, fallback: bigint): number {
  return Number(meta !== undefined && meta.aggregateVersion > 0n ? meta.aggregateVersion : fallback);
}

/** Numbers of a table column: four bytes each until one is not a 32-bit integer, then eight. */
type Numbers = Int32Array | Float64Array;

/** `array` with `value` at `at`, widened first when the value does not fit. */
function withValue(array: Numbers, at: number, value: number): Numbers {
  const fits = array instanceof Float64Array || (value | 0) === value;
  const target = fits ? array : Float64Array.from(array);
  target[at] = value;
  return target;
}

/** `array` with room for index `at`, doubled (and filled with `empty`) when it has none. */
function withRoom<T extends Float64Array | Int32Array>(array: T, at: number, empty: number): T {
  if (at < array.length) return array;
  const grown = new (array.constructor as new (length: number) => T)(Math.max(1024, array.length * 2));
  grown.set(array);
  grown.fill(empty, array.length);
  return grown;
}

/**
 * The read model's state, built only from events and applied by aggregate version: an event whose version is not
 * newer than the one applied for its product, SKU or collection is a duplicate or stale and changes nothing. So the
 * result does not depend on delivery order across aggregates, which lets a rebuild replay the streams while live
 * events keep arriving. Stock may arrive before its product: it is kept per SKU and joined when the product comes.
 *
 * It holds a million products, so it is kept in tables rather than objects: products and SKUs are numbered, versions
 * and stock levels are numbers in typed arrays (exact below 2^53, which counters and stock never reach), and each
 * listed product is kept once, as its packed encoding; a stock change decodes it, applies the stock and packs it again.
 */
export class CatalogProjection {
  private readonly productIds = new Numbering();
  private productVersions: Numbers = new Int32Array(0);
  /** The listed product's encoding; undefined for drafts and archived products, whose version stays as a tombstone. */
  private readonly packed: Array<PackedProduct | undefined> = [];
  /**
   * The SKU numbers of each product's variants: `skuCount[product]` of them from `skuStart[product]` in `skuLists`. A
   * product that gains variants gets a new range at the end, and its old one stays unused: variants rarely change.
   */
  private skuLists = new Int32Array(0);
  private skuListsUsed = 0;
  private skuStart = new Int32Array(0);
  private skuCount = new Int32Array(0);

  private readonly skus = new Numbering();
  /** -1 until a stock level came: stock may come before its product. */
  private stockVersions: Numbers = new Int32Array(0);
  private stockAvailable: Numbers = new Int32Array(0);
  /** The product number having the SKU as a variant, -1 when none. */
  private skuOwners = new Int32Array(0);

  private readonly collections = new Map<string, CollectionEntry>();
  private readonly listedPerCollection = new Map<string, number>();
  private readonly availableOf = (sku: string): bigint | undefined => {
    const number = this.skus.find(sku);
    if (number === undefined || (this.stockVersions[number] as number) < 0) return undefined;
    return BigInt(this.stockAvailable[number] as number);
  };
  /** Events that changed the state (duplicates and stale ones are not counted). */
  appliedEvents = 0;

  apply(event: CatalogEvent): CatalogChange {
    switch (event.$typeName) {
      case "shop.products.v1.ProductCreated":
      case "shop.products.v1.ProductUpdated":
        return event.product ? this.applyProduct(event.meta, event.product, false) : noChange;
      case "shop.products.v1.ProductArchived":
        return event.product ? this.applyProduct(event.meta, event.product, true) : noChange;
      case "shop.products.v1.CollectionChanged":
        return event.collection ? this.applyCollection(event.meta, event.collection) : noChange;
      case "shop.inventory.v1.StockChanged":
        return event.level ? this.applyStockLevel(event.meta, event.level.sku, event.level) : noChange;
    }
  }

  /** The number of a SKU, given (without stock or owner) on first sight. */
  private skuNumber(sku: string): number {
    return this.skus.numberOf(sku, (number) => {
      this.stockVersions = withRoom(this.stockVersions, number, -1);
      this.stockAvailable = withRoom(this.stockAvailable, number, 0);
      this.skuOwners = withRoom(this.skuOwners, number, -1);
    });
  }

  /** The number of a product, given (with version -1 and no SKUs) on first sight. */
  private productNumber(id: string): number {
    return this.productIds.numberOf(id, (number) => {
      this.productVersions = withRoom(this.productVersions, number, -1);
      this.packed.push(undefined);
      this.skuStart = withRoom(this.skuStart, number, 0);
      this.skuCount = withRoom(this.skuCount, number, 0);
    });
  }

  private skusOf(product: number): number[] {
    const start = this.skuStart[product] as number;
    return Array.from(this.skuLists.subarray(start, start + (this.skuCount[product] as number)));
  }

  private setSkus(product: number, skus: readonly number[]): void {
    if (skus.length > (this.skuCount[product] as number)) {
      this.skuStart[product] = this.skuListsUsed;
      this.skuListsUsed += skus.length;
      while (this.skuListsUsed > this.skuLists.length) this.skuLists = withRoom(this.skuLists, this.skuLists.length, 0);
    }
    this.skuLists.set(skus, this.skuStart[product] as number);
    this.skuCount[product] = skus.length;
  }

  /** A stored product decoded, its id the projection's own string (so the index shares it). */
  private decoded(number: number): CatalogProduct | undefined {
    const packed = this.packed[number];
    if (packed === undefined) return undefined;
    const product = unpackProduct(packed);
    product.id = this.productIds.nameOf(number);
    return product;
  }

  private applyProduct(meta: EventMeta | undefined, product: Product, archived: boolean): CatalogChange {
    const version = versionOf(meta, product.revision);
    const known = this.productIds.find(product.id);
    if (known !== undefined && version <= (this.productVersions[known] as number)) return noChange;
    this.appliedEvents++;
    const number = known ?? this.productNumber(product.id);
    this.productVersions = withValue(this.productVersions, number, version);
    const wasListed = this.packed[number] !== undefined;
    if (wasListed) this.countListed(this.decoded(number)?.collectionIds ?? [], -1);
    for (const sku of this.skusOf(number)) if (this.skuOwners[sku] === number) this.skuOwners[sku] = -1;
    const skus = product.variants.map((variant) => this.skuNumber(variant.sku));
    for (const sku of skus) this.skuOwners[sku] = number;
    this.setSkus(number, skus);
    if (archived || !isListed(product)) {
      this.packed[number] = undefined;
      return wasListed ? { upserts: [], removals: [product.id] } : noChange;
    }
    const catalogProduct = catalogProductOf(product);
    applyStock(catalogProduct, this.availableOf);
    this.countListed(catalogProduct.collectionIds, +1);
    const stored = storedProductOf(catalogProduct);
    this.packed[number] = stored.packed;
    return { upserts: [stored], removals: [] };
  }

  private applyStockLevel(
    meta: EventMeta | undefined,
    sku: string,
    level: { available: bigint; version: bigint },
  ): CatalogChange {
    const version = versionOf(meta, level.version);
    const known = this.skus.find(sku);
    if (known !== undefined && version <= (this.stockVersions[known] as number)) return noChange;
    this.appliedEvents++;
    const number = known ?? this.skuNumber(sku);
    this.stockVersions = withValue(this.stockVersions, number, version);
    this.stockAvailable = withValue(this.stockAvailable, number, Number(level.available));
    const owner = this.skuOwners[number] as number;
    const product = owner < 0 ? undefined : this.decoded(owner);
    if (product === undefined || !applyStock(product, this.availableOf)) return noChange;
    const stored = storedProductOf(product);
    this.packed[owner] = stored.packed;
    return { upserts: [stored], removals: [] };
  }

  private applyCollection(meta: EventMeta | undefined, collection: Collection): CatalogChange {
    const version = versionOf(meta, collection.revision);
    const previous = this.collections.get(collection.id);
    if (previous !== undefined && version <= previous.version) return noChange;
    this.appliedEvents++;
    this.collections.set(collection.id, { version, collection });
    return noChange;
  }

  private countListed(collectionIds: readonly string[], delta: number): void {
    for (const id of collectionIds) {
      const count = (this.listedPerCollection.get(id) ?? 0) + delta;
      if (count === 0) this.listedPerCollection.delete(id);
      else this.listedPerCollection.set(id, count);
    }
  }

  /** Gives back the room the tables keep for growth (up to half of them), once a build has replayed the streams. */
  trimToSize(): void {
    const fit = <T extends Numbers>(array: T, length: number): T => array.slice(0, length) as T;
    const products = this.productIds.size;
    const skus = this.skus.size;
    this.productVersions = fit(this.productVersions, products);
    this.skuStart = fit(this.skuStart, products);
    this.skuCount = fit(this.skuCount, products);
    this.skuLists = fit(this.skuLists, this.skuListsUsed);
    this.stockVersions = fit(this.stockVersions, skus);
    this.stockAvailable = fit(this.stockAvailable, skus);
    this.skuOwners = fit(this.skuOwners, skus);
  }

  /** A listed product with its current stock (decoded on each call). */
  product(id: string): CatalogProduct | undefined {
    const number = this.productIds.find(id);
    return number === undefined ? undefined : this.decoded(number);
  }

  /** Every listed product, decoded one at a time. */
  *listedProducts(): IterableIterator<CatalogProduct> {
    for (const { product } of this.storedProducts()) yield product;
  }

  /** Every listed product as stored, decoded one at a time: what a new index version is filled from. */
  *storedProducts(): IterableIterator<StoredProduct> {
    for (let number = 0; number < this.packed.length; number++) {
      const packed = this.packed[number];
      const product = this.decoded(number);
      if (product && packed !== undefined) yield { product, packed };
    }
  }

  /** Collections that are not archived, with the number of listed products in each. */
  listedCollections(): CatalogCollection[] {
    const result: CatalogCollection[] = [];
    for (const { collection } of this.collections.values()) {
      if (collection.archived) continue;
      result.push(
        create(CatalogCollectionSchema, {
          id: collection.id,
          title: collection.title,
          description: collection.description,
          handle: collection.handle,
          productCount: BigInt(this.listedPerCollection.get(collection.id) ?? 0),
        }),
      );
    }
    return result;
  }

  /** The collection id for an id or a handle ("kitchen"), so storefront URLs and the CLI can filter by handle. */
  collectionId(idOrHandle: string): string {
    if (this.collections.has(idOrHandle)) return idOrHandle;
    for (const { collection } of this.collections.values()) if (collection.handle === idOrHandle) return collection.id;
    return idOrHandle;
  }

  /** Every record of the state; safe to iterate while events keep applying (numbers are never reused). */
  *records(): IterableIterator<ProjectionRecord> {
    for (let number = 0; number < this.productIds.size; number++) {
      const packed = this.packed[number];
      yield {
        kind: "product",
        id: this.productIds.nameOf(number),
        version: BigInt(this.productVersions[number] as number),
        skus: this.skusOf(number).map((sku) => this.skus.nameOf(sku)),
        encoded: packed === undefined ? undefined : unpackEncoding(packed),
      };
    }
    for (let number = 0; number < this.skus.size; number++) {
      const version = this.stockVersions[number] as number;
      if (version < 0) continue;
      const available = BigInt(this.stockAvailable[number] as number);
      yield { kind: "stock", sku: this.skus.nameOf(number), version: BigInt(version), available };
    }
    for (const entry of this.collections.values())
      yield { kind: "collection", version: BigInt(entry.version), collection: entry.collection };
  }

  /** A projection from saved records; stock is joined to products and collection counts recomputed. */
  static restore(records: Iterable<ProjectionRecord>): CatalogProjection {
    const projection = new CatalogProjection();
    for (const record of records) {
      if (record.kind === "product") {
        const number = projection.productNumber(record.id);
        projection.productVersions = withValue(projection.productVersions, number, Number(record.version));
        projection.packed[number] = record.encoded ? packEncoding(record.encoded) : undefined;
        const skus = record.skus.map((sku) => projection.skuNumber(sku));
        for (const sku of skus) projection.skuOwners[sku] = number;
        projection.setSkus(number, skus);
      } else if (record.kind === "stock") {
        const number = projection.skuNumber(record.sku);
        projection.stockVersions = withValue(projection.stockVersions, number, Number(record.version));
        projection.stockAvailable = withValue(projection.stockAvailable, number, Number(record.available));
      } else {
        const version = Number(record.version);
        projection.collections.set(record.collection.id, { version, collection: record.collection });
      }
    }
    for (let number = 0; number < projection.packed.length; number++) {
      const product = projection.decoded(number);
      if (!product) continue;
      if (applyStock(product, projection.availableOf)) projection.packed[number] = storedProductOf(product).packed;
      projection.countListed(product.collectionIds, +1);
    }
    return projection;
  }

  get size(): { products: number; listed: number; skus: number; collections: number } {
    let listed = 0;
    let skus = 0;
    for (const packed of this.packed) if (packed !== undefined) listed++;
    for (let number = 0; number < this.skus.size; number++) if ((this.stockVersions[number] as number) >= 0) skus++;
    return { products: this.productIds.size, listed, skus, collections: this.collections.size };
  }
}
