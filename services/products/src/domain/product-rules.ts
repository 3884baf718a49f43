import { clone, create, type JsonObject, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Product,
  ProductSchema,
  ProductStatus,
  type StockLevelEntry,
} from "@shop/contracts/shop/products/v1/product_pb.js";
import type { CreateProductRequest } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { InvalidInputError, PreconditionError, StaleRevisionError } from "@shop/platform";
import { isKnownCurrency } from "./currency.js";
import { stableJson } from "./stable-json.js";

/** A product ready to be stored, with the stock levels its create request asked for. */
export interface NewProduct {
  product: Product;
  initialStock: StockLevelEntry[];
}

/** Product fields an update may change, by proto name, with their JSON names. */
const writableFields = {
  title: "title",
  description: "description",
  price: "price",
  variants: "variants",
  tags: "tags",
  attributes: "attributes",
  image_urls: "imageUrls",
  status: "status",
} as const;

type WritableField = keyof typeof writableFields;

/** Rules the contract's field rules cannot express; `prefix` is the path of the product in the request. */
function checkProductRules(product: Product, prefix: string): void {
  if (product.title.trim() === "") throw new InvalidInputError(`${prefix}.title`, "must not be blank");
  const currency = product.price?.currencyCode ?? "";
  if (!isKnownCurrency(currency)) {
    throw new InvalidInputError(`${prefix}.price.currency_code`, `"${currency}" is not an ISO 4217 currency code`);
  }
  const skuAt = new Map<string, number>();
  product.variants.forEach((variant, i) => {
    const seen = skuAt.get(variant.sku);
    if (seen !== undefined) {
      throw new InvalidInputError(`${prefix}.variants[${i}].sku`, `"${variant.sku}" repeats variants[${seen}]`);
    }
    skuAt.set(variant.sku, i);
    if (variant.price !== undefined && variant.price.currencyCode !== currency) {
      throw new InvalidInputError(
        `${prefix}.variants[${i}].price.currency_code`,
        `must be the product's currency ${currency}, not "${variant.price.currencyCode}"`,
      );
    }
  });
  if (new Set(product.collectionIds).size !== product.collectionIds.length) {
    throw new InvalidInputError(`${prefix}.collection_ids`, "lists a collection twice");
  }
}

export function productSkus(product: Product): string[] {
  return product.variants.map((variant) => variant.sku);
}

/**
 * Turns a create request into the product to store: server-owned fields (id, revision, times) are set here whatever
 * the caller sent; a product starts active unless it asks to be a draft.
 */
export function prepareNewProduct(request: CreateProductRequest, id: string, now: Date, sellerId = ""): NewProduct {
  if (request.product === undefined) throw new InvalidInputError("product", "is required");
  const product = clone(ProductSchema, request.product);
  checkProductRules(product, "product");
  if (product.status === ProductStatus.ARCHIVED) {
    throw new InvalidInputError("product.status", "a new product cannot be archived; create it as draft or active");
  }
  const skus = new Set(productSkus(product));
  const stockAt = new Map<string, number>();
  request.initialStock.forEach((level, i) => {
    if (!skus.has(level.sku)) {
      throw new InvalidInputError(`initial_stock[${i}].sku`, `"${level.sku}" is not a SKU of this product's variants`);
    }
    if (stockAt.has(level.sku)) {
      throw new InvalidInputError(
        `initial_stock[${i}].sku`,
        `"${level.sku}" repeats initial_stock[${stockAt.get(level.sku)}]`,
      );
    }
    stockAt.set(level.sku, i);
  });
  product.id = id;
  // Whose product it is comes from who created it, never from the request.
  product.sellerId = sellerId;
  product.revision = 1n;
  product.status = product.status === ProductStatus.UNSPECIFIED ? ProductStatus.ACTIVE : product.status;
  product.createTime = timestampFromDate(now);
  product.updateTime = timestampFromDate(now);
  return { product, initialStock: request.initialStock };
}

/** Updates send the revision they read; anything else is refused so no change is silently overwritten. */
export function checkRevision(kind: string, id: string, current: bigint, sent: bigint, field: string): void {
  if (sent === 0n) {
    throw new InvalidInputError(field, `send the revision you read (the ${kind}'s current one is ${current})`);
  }
  if (sent !== current) {
    throw new StaleRevisionError(
      `${kind} ${id} is at revision ${current}, not ${sent}: it changed since you read it; get it again and reapply your change`,
    );
  }
}

export function checkNotArchived(product: Product): void {
  if (product.status === ProductStatus.ARCHIVED) {
    throw new PreconditionError(`product ${product.id} is archived; archived products cannot be changed`);
  }
}

function fieldJson(product: Product): JsonObject {
  return toJson(ProductSchema, product, { alwaysEmitImplicit: true }) as JsonObject;
}

/** Which of `fields` differ between two versions of a product. */
export function changedFields(before: Product, after: Product, fields: readonly string[]): string[] {
  const a = fieldJson(before);
  const b = fieldJson(after);
  return fields.filter((field) => {
    const jsonName =
      writableFields[field as WritableField] ?? field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    return stableJson(a[jsonName]) !== stableJson(b[jsonName]);
  });
}

function maskPaths(paths: string[]): WritableField[] {
  if (paths.length === 0) return Object.keys(writableFields) as WritableField[];
  return paths.map((path) => {
    if (path === "collection_ids") {
      throw new InvalidInputError(
        "update_mask",
        "collection_ids changes with AddProductsToCollection / RemoveProductsFromCollection",
      );
    }
    if (!(path in writableFields)) {
      throw new InvalidInputError(
        "update_mask",
        `"${path}" cannot be changed; writable fields are ${Object.keys(writableFields).join(", ")}`,
      );
    }
    return path as WritableField;
  });
}

/**
 * Applies the masked fields of `patch` to `current` (after the caller checked the revision). Returns the product to
 * store and the fields that really changed; nothing changed means no new revision and no event.
 */
export function applyProductUpdate(
  current: Product,
  patch: Product,
  paths: string[],
  now: Date,
): { product: Product; changed: string[] } {
  checkNotArchived(current);
  const fields = maskPaths(paths);
  const next = clone(ProductSchema, current);
  for (const field of fields) {
    switch (field) {
      case "title":
        next.title = patch.title;
        break;
      case "description":
        next.description = patch.description;
        break;
      case "price":
        next.price = patch.price;
        break;
      case "variants":
        next.variants = patch.variants;
        break;
      case "tags":
        next.tags = patch.tags;
        break;
      case "attributes":
        next.attributes = patch.attributes;
        break;
      case "image_urls":
        next.imageUrls = patch.imageUrls;
        break;
      case "status":
        if (patch.status === ProductStatus.ARCHIVED) {
          throw new InvalidInputError(
            "product.status",
            "archive a product with ArchiveProduct (`shop products archive`)",
          );
        }
        if (patch.status !== ProductStatus.UNSPECIFIED) next.status = patch.status;
        break;
    }
  }
  if (next.price === undefined) throw new InvalidInputError("product.price", "is required");
  if (next.variants.length === 0)
    throw new InvalidInputError("product.variants", "a product needs at least one variant");
  checkProductRules(next, "product");
  const changed = changedFields(current, next, fields);
  if (changed.length === 0) return { product: current, changed };
  next.revision = current.revision + 1n;
  next.updateTime = timestampFromDate(now);
  return { product: next, changed };
}

/** The product after archiving: kept, never deleted, so orders and history still resolve it. */
export function archiveProduct(current: Product, now: Date): Product {
  const next = clone(ProductSchema, current);
  next.status = ProductStatus.ARCHIVED;
  next.revision = current.revision + 1n;
  next.updateTime = timestampFromDate(now);
  return next;
}

/** The product with its collection memberships replaced, as a new revision. */
export function withCollections(current: Product, collectionIds: string[], now: Date): Product {
  return create(ProductSchema, {
    ...current,
    collectionIds,
    revision: current.revision + 1n,
    updateTime: timestampFromDate(now),
  });
}

export const productStatusWord: Record<ProductStatus, string> = {
  [ProductStatus.UNSPECIFIED]: "unspecified",
  [ProductStatus.DRAFT]: "draft",
  [ProductStatus.ACTIVE]: "active",
  [ProductStatus.ARCHIVED]: "archived",
};
