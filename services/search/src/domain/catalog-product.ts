import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Money } from "@shop/contracts/shop/common/v1/money_pb.js";
import { type Product, ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import { type CatalogProduct, CatalogProductSchema } from "@shop/contracts/shop/search/v1/search_pb.js";

/**
 * A CatalogProduct encoding held as a string of one byte per character (latin1). The read model keeps one per listed
 * product, and such a string costs about 25 bytes of heap besides its content where a Uint8Array costs about 190 (its
 * view and ArrayBuffer objects): 165 MB at a million products.
 */
export type PackedProduct = string;

export function packEncoding(encoded: Uint8Array): PackedProduct {
  return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString("latin1");
}

/** The encoding's bytes again (a copy). */
export function unpackEncoding(packed: PackedProduct): Uint8Array {
  return Buffer.from(packed, "latin1");
}

/**
 * A product's encoding as a search hit carries it: the bytes a store answered with (OpenSearch's), or the packed
 * string the embedded index keeps, passed on without a copy (a binary response writes it straight into its buffer).
 */
export type ProductEncoding = Uint8Array | PackedProduct;

/** The encoding's bytes (a copy when it is packed). */
export function encodingBytes(encoding: ProductEncoding): Uint8Array {
  return typeof encoding === "string" ? unpackEncoding(encoding) : encoding;
}

/**
 * A listed product as the read model keeps it: its packed encoding, which the projection and the embedded index share
 * as their one copy (binary responses carry its bytes as they are), and the decoded message, which lives only as long
 * as the write that indexes it.
 */
export interface StoredProduct {
  product: CatalogProduct;
  packed: PackedProduct;
}

/** The stored form of a product: the message and its packed encoding. */
export function storedProductOf(product: CatalogProduct): StoredProduct {
  return { product, packed: packEncoding(toBinary(CatalogProductSchema, product)) };
}

/** A product from its encoding (a new message each time). */
export function decodeProduct(encoded: Uint8Array): CatalogProduct {
  return fromBinary(CatalogProductSchema, encoded);
}

/** A product from its packed encoding (a new message each time). */
export function unpackProduct(packed: PackedProduct): CatalogProduct {
  return decodeProduct(unpackEncoding(packed));
}

/** Customers see active products; drafts are the seller's, archived ones are gone. Unset status counts as active. */
export function isListed(product: Product): boolean {
  return product.status === ProductStatus.ACTIVE || product.status === ProductStatus.UNSPECIFIED;
}

/** Lowest variant price in the product's currency (variants without a price take the product's). */
function lowestPrice(product: Product): Money | undefined {
  let lowest = product.price;
  for (const variant of product.variants) {
    const price = variant.price ?? product.price;
    if (price === undefined || (lowest !== undefined && price.currencyCode !== lowest.currencyCode)) continue;
    if (lowest === undefined || price.amountMinor < lowest.amountMinor) lowest = price;
  }
  return lowest;
}

/**
 * The catalog view of a product, its stock still to be filled in by `applyStock`. It shares strings with the event it
 * came from, so the read model holds one copy of the text.
 */
export function catalogProductOf(product: Product): CatalogProduct {
  return create(CatalogProductSchema, {
    id: product.id,
    title: product.title,
    description: product.description,
    price: lowestPrice(product),
    tags: product.tags,
    attributes: product.attributes,
    imageUrls: product.imageUrls,
    collectionIds: product.collectionIds,
    variants: product.variants.map((variant) => ({
      sku: variant.sku,
      title: variant.title,
      price: variant.price ?? product.price,
      options: variant.options,
      available: 0n,
    })),
    available: 0n,
    createTime: product.createTime,
    updateTime: product.updateTime,
  });
}

/**
 * Sets each variant's remaining stock and the product's sum. Negative levels (oversold) show as 0. Returns whether
 * anything changed, so an unchanged product is not rewritten to the index.
 */
export function applyStock(product: CatalogProduct, availableOf: (sku: string) => bigint | undefined): boolean {
  let total = 0n;
  let changed = false;
  for (const variant of product.variants) {
    const level = availableOf(variant.sku) ?? 0n;
    const available = level > 0n ? level : 0n;
    if (variant.available !== available) {
      variant.available = available;
      changed = true;
    }
    total += available;
  }
  if (product.available !== total) {
    product.available = total;
    changed = true;
  }
  return changed;
}

/** Creation time in epoch milliseconds: the key of the "newest" order (0 when unknown). */
export function createTimeMs(product: CatalogProduct): number {
  const time = product.createTime;
  return time ? Number(time.seconds) * 1000 + Math.floor(time.nanos / 1e6) : 0;
}
