import { create } from "@bufbuild/protobuf";
import { ProductSchema, ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import { CreateProductRequestSchema } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { describe, expect, it } from "vitest";
import { applyProductUpdate, checkRevision, prepareNewProduct } from "./product-rules.js";

const now = new Date("2030-01-02T03:04:05Z");
const request = (product: object, initialStock: object[] = []) =>
  create(CreateProductRequestSchema, {
    product: {
      title: "Mug",
      price: { currencyCode: "EUR", amountMinor: 1250n },
      variants: [{ sku: "MUG-1" }],
      ...product,
    },
    initialStock,
  });

describe("new products", () => {
  it("sets the server-owned fields whatever the caller sent", () => {
    const { product } = prepareNewProduct(request({ id: "mine", revision: 7n }), "prd_1", now);
    expect(product.id).toBe("prd_1");
    expect(product.revision).toBe(1n);
    expect(product.status).toBe(ProductStatus.ACTIVE);
  });

  it("refuses archived, unknown currencies, mixed variant currencies and repeated SKUs", () => {
    expect(() => prepareNewProduct(request({ status: ProductStatus.ARCHIVED }), "p", now)).toThrow(
      /cannot be archived/,
    );
    expect(() => prepareNewProduct(request({ price: { currencyCode: "XXX", amountMinor: 1n } }), "p", now)).toThrow(
      /not an ISO 4217/,
    );
    expect(() =>
      prepareNewProduct(
        request({ variants: [{ sku: "A", price: { currencyCode: "USD", amountMinor: 1n } }] }),
        "p",
        now,
      ),
    ).toThrow(/variants\[0\]\.price\.currency_code/);
    expect(() => prepareNewProduct(request({ variants: [{ sku: "A" }, { sku: "A" }] }), "p", now)).toThrow(
      /variants\[1\]\.sku: "A" repeats variants\[0\]/,
    );
    expect(() => prepareNewProduct(request({}, [{ sku: "B", quantity: 1n }]), "p", now)).toThrow(/initial_stock\[0\]/);
  });
});

describe("updates", () => {
  const current = create(ProductSchema, {
    id: "p",
    title: "Mug",
    price: { currencyCode: "EUR", amountMinor: 1250n },
    variants: [{ sku: "MUG-1" }],
    attributes: { colour: "red", size: "m" },
    status: ProductStatus.ACTIVE,
    revision: 3n,
  });

  it("changes only masked fields and names those that really changed", () => {
    const patch = create(ProductSchema, { ...current, title: "Cup", description: "not masked" });
    const { product, changed } = applyProductUpdate(current, patch, ["title", "attributes"], now);
    expect(product.title).toBe("Cup");
    expect(product.description).toBe("");
    expect(product.revision).toBe(4n);
    expect(changed).toEqual(["title"]);
  });

  it("treats a map in another order as unchanged", () => {
    const patch = create(ProductSchema, { ...current, attributes: { size: "m", colour: "red" } });
    expect(applyProductUpdate(current, patch, [], now).changed).toEqual([]);
  });

  it("refuses collection_ids, archiving through update, and stale revisions", () => {
    expect(() => applyProductUpdate(current, current, ["collection_ids"], now)).toThrow(/AddProductsToCollection/);
    const archived = create(ProductSchema, { ...current, status: ProductStatus.ARCHIVED });
    expect(() => applyProductUpdate(current, archived, ["status"], now)).toThrow(/ArchiveProduct/);
    expect(() => checkRevision("product", "p", 3n, 2n, "product.revision")).toThrow(/revision 3, not 2/);
  });
});
