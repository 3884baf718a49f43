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
import { applyStock, catalogProductOf, isListed } from "./catalog-product.js";

/** The events the catalog is built from: products and collections from PRODUCTS, stock from INVENTORY. */
export type CatalogEvent = ProductCreated | ProductUpdated | ProductArchived | CollectionChanged | StockChanged;

/** What an event did to the searchable set: products to (re)index and ids to drop. Empty for duplicates. */
export interface CatalogChange {
  upserts: CatalogProduct[];
  removals: string[];
}

/** The projection's state, one record per product, SKU and collection: what a snapshot stores. */
export type ProjectionRecord =
  | { kind: "product"; id: string; version: bigint; skus: string[]; product?: CatalogProduct }
  | { kind: "stock"; sku: string; version: bigint; available: bigint }
  | { kind: "collection"; version: bigint; collection: Collection };

const noChange: CatalogChange = Object.freeze({ upserts: [], removals: [] }) as CatalogChange;

interface ProductEntry {
  version: bigint;
  /** The listed product; undefined for drafts and archived products, whose version stays as a tombstone. */
  product?: CatalogProduct;
  skus: string[];
}

interface StockEntry {
  version: bigint;
  available: bigint;
}

interface CollectionEntry {
  version: bigint;
  collection: Collection;
}

/** The aggregate version an event brings; events published without one fall back to the payload's own counter. */
function versionOf(meta: EventMeta | undefined, fallback: bigint): bigint {
  return meta !== undefined && meta.aggregateVersion > 0n ? meta.aggregateVersion : fallback;
}

/**
 * The read model's state, built only from events and applied by aggregate version: an event whose version is not
 * newer than the one applied for its product, SKU or collection is a duplicate or stale and changes nothing. So the
 * result does not depend on delivery order across aggregates, which lets a rebuild replay the streams while live
 * events keep arriving. Stock may arrive before its product: it is kept per SKU and joined when the product comes.
 */
export class CatalogProjection {
  private readonly products = new Map<string, ProductEntry>();
  private readonly stock = new Map<string, StockEntry>();
  private readonly skuOwners = new Map<string, string>();
  private readonly collections = new Map<string, CollectionEntry>();
  private readonly listedPerCollection = new Map<string, number>();
  private readonly availableOf = (sku: string) => this.stock.get(sku)?.available;
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

  private applyProduct(meta: EventMeta | undefined, product: Product, archived: boolean): CatalogChange {
    const version = versionOf(meta, product.revision);
    const previous = this.products.get(product.id);
    if (previous !== undefined && version <= previous.version) return noChange;
    this.appliedEvents++;
    const listed = !archived && isListed(product);
    const catalogProduct = listed ? catalogProductOf(product) : undefined;
    if (catalogProduct) applyStock(catalogProduct, this.availableOf);
    const skus = product.variants.map((variant) => variant.sku);
    for (const sku of previous?.skus ?? []) if (this.skuOwners.get(sku) === product.id) this.skuOwners.delete(sku);
    for (const sku of skus) this.skuOwners.set(sku, product.id);
    this.countListed(previous?.product?.collectionIds ?? [], -1);
    this.countListed(catalogProduct?.collectionIds ?? [], +1);
    this.products.set(product.id, { version, product: catalogProduct, skus });
    if (catalogProduct) return { upserts: [catalogProduct], removals: [] };
    return previous?.product ? { upserts: [], removals: [product.id] } : noChange;
  }

  private applyStockLevel(
    meta: EventMeta | undefined,
    sku: string,
    level: { available: bigint; version: bigint },
  ): CatalogChange {
    const version = versionOf(meta, level.version);
    const previous = this.stock.get(sku);
    if (previous !== undefined && version <= previous.version) return noChange;
    this.appliedEvents++;
    this.stock.set(sku, { version, available: level.available });
    const owner = this.skuOwners.get(sku);
    const product = owner === undefined ? undefined : this.products.get(owner)?.product;
    if (product === undefined || !applyStock(product, this.availableOf)) return noChange;
    return { upserts: [product], removals: [] };
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

  /** A listed product with its current stock. */
  product(id: string): CatalogProduct | undefined {
    return this.products.get(id)?.product;
  }

  /** Every listed product; what a new index version is filled from. */
  *listedProducts(): IterableIterator<CatalogProduct> {
    for (const entry of this.products.values()) if (entry.product) yield entry.product;
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

  /** Every record of the state; safe to iterate while events keep applying (entries are never deleted). */
  *records(): IterableIterator<ProjectionRecord> {
    for (const [id, entry] of this.products)
      yield { kind: "product", id, version: entry.version, skus: entry.skus, product: entry.product };
    for (const [sku, entry] of this.stock) yield { kind: "stock", sku, ...entry };
    for (const entry of this.collections.values()) yield { kind: "collection", ...entry };
  }

  /** A projection from saved records; stock is joined to products and collection counts recomputed. */
  static restore(records: Iterable<ProjectionRecord>): CatalogProjection {
    const projection = new CatalogProjection();
    for (const record of records) {
      if (record.kind === "product") {
        projection.products.set(record.id, { version: record.version, skus: record.skus, product: record.product });
        for (const sku of record.skus) projection.skuOwners.set(sku, record.id);
      } else if (record.kind === "stock") {
        projection.stock.set(record.sku, { version: record.version, available: record.available });
      } else {
        projection.collections.set(record.collection.id, { version: record.version, collection: record.collection });
      }
    }
    for (const { product } of projection.products.values()) {
      if (!product) continue;
      applyStock(product, projection.availableOf);
      projection.countListed(product.collectionIds, +1);
    }
    return projection;
  }

  get size(): { products: number; listed: number; skus: number; collections: number } {
    let listed = 0;
    for (const entry of this.products.values()) if (entry.product) listed++;
    return { products: this.products.size, listed, skus: this.stock.size, collections: this.collections.size };
  }
}
