import { create } from "@bufbuild/protobuf";
import type { Money } from "@shop/contracts/shop/common/v1/money_pb.js";
import { ProductStatus, type Variant, VariantSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import {
  type CreateProductRequest,
  CreateProductRequestSchema,
} from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { parseMoney } from "@shop/sdk";

/**
 * A product as people write it, in a CSV row, a JSONL line or on the command line: decimal prices, one SKU or a
 * list of variants. `toCreateRequest` turns it into the contract's request, converting money exactly.
 */
export interface ProductRow {
  title?: string;
  description?: string;
  price?: string;
  currency?: string;
  sku?: string;
  stock?: string;
  tags?: string[];
  status?: string;
  imageUrls?: string[];
  attributes?: Record<string, string>;
  collectionIds?: string[];
  variants?: Array<{ sku?: string; title?: string; price?: string; stock?: string; options?: Record<string, string> }>;
}

/** A problem with one row, named by the field so the message says what to fix. */
export class RowError extends Error {
  override name = "RowError" as const;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const statuses: Record<string, ProductStatus> = {
  "": ProductStatus.UNSPECIFIED,
  active: ProductStatus.ACTIVE,
  draft: ProductStatus.DRAFT,
};

function money(amount: string, currency: string, field: string): Money {
  try {
    return parseMoney(amount, currency);
  } catch (err) {
    throw new RowError(field, (err as Error).message.replace(/^(price|currency) /, ""));
  }
}

function quantity(text: string, field: string): bigint {
  if (!/^\d+$/.test(text.trim())) throw new RowError(field, `"${text}" is not a whole number of items`);
  return BigInt(text.trim());
}

/** The same product always gets the same request id, so re-running an import skips what it already created. */
export function importRequestId(firstSku: string): string {
  return `import:${firstSku}`;
}

export function toCreateRequest(row: ProductRow, defaults: { currency?: string } = {}): CreateProductRequest {
  const currency = (row.currency || defaults.currency || "").trim();
  if (!row.title?.trim()) throw new RowError("title", "is required");
  if (!row.price?.trim()) throw new RowError("price", "is required, e.g. 12.50");
  if (currency === "") throw new RowError("currency", "is required, e.g. EUR (or pass --currency)");
  const status = statuses[(row.status ?? "").trim().toLowerCase()];
  if (status === undefined) throw new RowError("status", `"${row.status}" is not draft or active`);
  const price = money(row.price, currency, "price");

  const variants: Variant[] = [];
  const initialStock: Array<{ sku: string; quantity: bigint }> = [];
  const variantRows = row.variants?.length ? row.variants : [{ sku: row.sku, stock: row.stock }];
  variantRows.forEach((variant, i) => {
    const at = row.variants?.length ? `variants[${i}].` : "";
    const sku = (variant.sku ?? "").trim();
    if (sku === "") throw new RowError(`${at}sku`, "is required");
    variants.push(
      create(VariantSchema, {
        sku,
        title: variant.title ?? "",
        price: variant.price ? money(variant.price, currency, `${at}price`) : undefined,
        options: variant.options ?? {},
      }),
    );
    if (variant.stock !== undefined && variant.stock.trim() !== "") {
      initialStock.push({ sku, quantity: quantity(variant.stock, `${at}stock`) });
    }
  });

  return create(CreateProductRequestSchema, {
    product: {
      title: row.title.trim(),
      description: row.description ?? "",
      price,
      variants,
      tags: row.tags ?? [],
      attributes: row.attributes ?? {},
      imageUrls: row.imageUrls ?? [],
      collectionIds: row.collectionIds ?? [],
      status,
    },
    initialStock,
    requestId: importRequestId(variants[0]?.sku ?? ""),
  });
}

const listOf = (text: unknown): string[] =>
  typeof text === "string"
    ? text
        .split(/[;|]/)
        .map((item) => item.trim())
        .filter((item) => item !== "")
    : [];

const textOf = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : typeof value === "string" ? value : String(value);

/**
 * A CSV row by column name: title, description, price, currency, sku, stock, status, tags (`a;b`), image_urls
 * (`u1;u2`), collection_ids, and one `attr.<name>` column per attribute.
 */
export function rowFromCsv(fields: Record<string, unknown>): ProductRow {
  const get = (name: string) => textOf(fields[name]);
  const attributes: Record<string, string> = {};
  for (const [column, value] of Object.entries(fields)) {
    if (column.startsWith("attr.") && typeof value === "string" && value.trim() !== "") {
      attributes[column.slice(5)] = value.trim();
    }
  }
  return {
    title: get("title"),
    description: get("description"),
    price: get("price"),
    currency: get("currency"),
    sku: get("sku"),
    stock: get("stock"),
    status: get("status"),
    tags: listOf(fields.tags).map((tag) => tag.toLowerCase()),
    imageUrls: listOf(fields.image_urls),
    collectionIds: listOf(fields.collection_ids),
    attributes,
  };
}

/** A JSONL object: the CSV names (camelCase accepted too), with arrays for lists and a `variants` array. */
export function rowFromJson(value: Record<string, unknown>): ProductRow {
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : listOf(v));
  const variants = Array.isArray(value.variants)
    ? (value.variants as Array<Record<string, unknown>>).map((variant) => ({
        sku: textOf(variant.sku),
        title: textOf(variant.title),
        price: textOf(variant.price),
        stock: textOf(variant.stock),
        options: (variant.options as Record<string, string> | undefined) ?? {},
      }))
    : undefined;
  return {
    title: textOf(value.title),
    description: textOf(value.description),
    price: textOf(value.price),
    currency: textOf(value.currency),
    sku: textOf(value.sku),
    stock: textOf(value.stock),
    status: textOf(value.status),
    tags: list(value.tags),
    imageUrls: list(value.imageUrls ?? value.image_urls),
    collectionIds: list(value.collectionIds ?? value.collection_ids),
    attributes: (value.attributes as Record<string, string> | undefined) ?? {},
    variants,
  };
}
