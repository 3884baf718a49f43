import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type StockChanged, StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import {
  type CollectionChanged,
  CollectionChangedSchema,
  type ProductArchived,
  ProductArchivedSchema,
  type ProductCreated,
  ProductCreatedSchema,
  type ProductUpdated,
  ProductUpdatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import { type Product, ProductSchema, ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import { newEventMeta } from "@shop/platform";

/** A product as a test describes it: only what matters to search, with defaults for the rest. */
export interface ProductSpec {
  id: string;
  title: string;
  description?: string;
  /** Minor units of `currency`. */
  price: number;
  currency?: string;
  tags?: string[];
  attributes?: Record<string, string>;
  collections?: string[];
  /** SKUs of its variants; default one SKU, `<id>-1`. Prices per SKU override the product price. */
  skus?: Array<string | { sku: string; price: number }>;
  /** Creation time, epoch ms (drives the "newest" order). */
  created?: number;
  status?: ProductStatus;
}

const baseTime = Date.UTC(2025, 0, 1);

export function productOf(spec: ProductSpec, revision = 1): Product {
  const currency = spec.currency ?? "EUR";
  const skus = spec.skus ?? [`${spec.id}-1`];
  return create(ProductSchema, {
    id: spec.id,
    title: spec.title,
    description: spec.description ?? "",
    price: { currencyCode: currency, amountMinor: BigInt(spec.price) },
    tags: spec.tags ?? [],
    attributes: spec.attributes ?? {},
    collectionIds: spec.collections ?? [],
    variants: skus.map((entry) => {
      const sku = typeof entry === "string" ? entry : entry.sku;
      const price =
        typeof entry === "string" ? undefined : { currencyCode: currency, amountMinor: BigInt(entry.price) };
      return { sku, title: sku, price };
    }),
    status: spec.status ?? ProductStatus.ACTIVE,
    revision: BigInt(revision),
    createTime: timestampFromMs(spec.created ?? baseTime),
    updateTime: timestampFromMs(spec.created ?? baseTime),
  });
}

export function productCreated(spec: ProductSpec, version = 1): ProductCreated {
  return create(ProductCreatedSchema, { meta: newEventMeta(spec.id, version), product: productOf(spec, version) });
}

export function productUpdated(spec: ProductSpec, version: number): ProductUpdated {
  return create(ProductUpdatedSchema, { meta: newEventMeta(spec.id, version), product: productOf(spec, version) });
}

export function productArchived(spec: ProductSpec, version: number): ProductArchived {
  const product = productOf({ ...spec, status: ProductStatus.ARCHIVED }, version);
  return create(ProductArchivedSchema, { meta: newEventMeta(spec.id, version), product });
}

export function collectionChanged(
  collection: { id: string; handle: string; title: string; archived?: boolean },
  version = 1,
): CollectionChanged {
  return create(CollectionChangedSchema, {
    meta: newEventMeta(collection.id, version),
    collection: { ...collection, archived: collection.archived ?? false, revision: BigInt(version) },
  });
}

export function stockChanged(sku: string, available: number, version: number): StockChanged {
  return create(StockChangedSchema, {
    meta: newEventMeta(sku, version),
    level: {
      sku,
      onHand: BigInt(available),
      reserved: 0n,
      available: BigInt(available),
      version: BigInt(version),
    },
  });
}

/** Creation times a minute apart, so "newest" has a defined order. */
export function minutesAfterBase(minutes: number): number {
  return baseTime + minutes * 60_000;
}
