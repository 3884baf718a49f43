import type { Money } from "@shop/contracts/shop/common/v1/money_pb.js";
import { type Product, ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";

/** What checkout needs to know of one sellable SKU. */
export interface CatalogEntry {
  sku: string;
  productId: string;
  title: string;
  unitPrice: Money;
  status: ProductStatus;
  /** Who sells it (the seller's API key id); empty for products an operator created. */
  sellerId: string;
}

/** The orders service's own copy of catalog prices, fed by product events and applied by product version. */
export interface CatalogPrices {
  /** Applies a product as of `version`; an older or repeated version changes nothing. */
  apply(product: Product, version: bigint): void;
  lookup(sku: string): CatalogEntry | undefined;
}

export function createCatalogPrices(): CatalogPrices {
  const bySku = new Map<string, CatalogEntry>();
  const products = new Map<string, { version: bigint; skus: string[] }>();
  return {
    apply(product, version) {
      const known = products.get(product.id);
      if (known !== undefined && known.version >= version) return;
      for (const sku of known?.skus ?? []) bySku.delete(sku);
      const skus: string[] = [];
      for (const variant of product.variants) {
        const unitPrice = variant.price ?? product.price;
        if (unitPrice === undefined) continue;
        skus.push(variant.sku);
        bySku.set(variant.sku, {
          sku: variant.sku,
          productId: product.id,
          title: variant.title ? `${product.title} — ${variant.title}` : product.title,
          unitPrice,
          status: product.status,
          sellerId: product.sellerId,
        });
      }
      products.set(product.id, { version, skus });
    },
    lookup: (sku) => bySku.get(sku),
  };
}

/** Only active products are sold. */
export function isSellable(entry: CatalogEntry): boolean {
  return entry.status === ProductStatus.ACTIVE;
}
