import { create, fromBinary } from "@bufbuild/protobuf";
import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import {
  ProductArchivedSchema,
  ProductCreatedSchema,
  ProductUpdatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import { CatalogProductSchema } from "@shop/contracts/shop/search/v1/search_pb.js";
import { newEventMeta } from "@shop/platform";
import { describe, expect, it } from "vitest";
import { unpackEncoding } from "./catalog-product.js";
import { CatalogProjection } from "./catalog-projection.js";

const product = (id: string, title: string, version: number, collectionIds: string[] = []) => ({
  meta: newEventMeta(id, version),
  product: {
    id,
    title,
    price: { currencyCode: "EUR", amountMinor: 500n },
    variants: [{ sku: `${id}-a`, price: { currencyCode: "EUR", amountMinor: 450n } }, { sku: `${id}-b` }],
    collectionIds,
  },
});
const stock = (sku: string, available: number, version: number) =>
  create(StockChangedSchema, { meta: newEventMeta(sku, version), level: { sku, available: BigInt(available) } });

describe("catalog projection", () => {
  it("prices a product at its lowest variant and sums its variants' stock, even when stock came first", () => {
    const projection = new CatalogProjection();
    projection.apply(stock("p1-b", 3, 1));
    const change = projection.apply(create(ProductCreatedSchema, product("p1", "Mug", 1)));
    expect(change.upserts[0]?.product.price?.amountMinor).toBe(450n);
    expect(change.upserts[0]?.product.available).toBe(3n);
    projection.apply(stock("p1-a", -2, 1));
    expect(projection.product("p1")?.variants.map((v) => v.available)).toEqual([0n, 3n]);
  });

  it("stores each listed product as its encoding, encoded again when its stock changes", () => {
    const projection = new CatalogProjection();
    const created = projection.apply(create(ProductCreatedSchema, product("p1", "Mug", 1))).upserts[0];
    expect(created && fromBinary(CatalogProductSchema, unpackEncoding(created.packed))).toEqual(created?.product);
    const restocked = projection.apply(stock("p1-a", 7, 1)).upserts[0];
    expect(restocked && fromBinary(CatalogProductSchema, unpackEncoding(restocked.packed)).available).toBe(7n);
    expect(projection.product("p1")).toEqual(restocked?.product);
    expect(projection.apply(stock("p1-a", 7, 2)).upserts).toEqual([]);
  });

  it("keeps versions and stock levels beyond 32 bits exactly", () => {
    const projection = new CatalogProjection();
    projection.apply(create(ProductCreatedSchema, product("p1", "Mug", 1)));
    projection.apply(stock("p1-a", 5_000_000_000, 3_000_000_000));
    expect(projection.product("p1")?.available).toBe(5_000_000_000n);
    expect(projection.apply(stock("p1-a", 1, 3_000_000_000)).upserts).toEqual([]);
    const restored = CatalogProjection.restore(projection.records());
    expect(restored.product("p1")?.available).toBe(5_000_000_000n);
  });

  it("ignores duplicates and stale versions", () => {
    const projection = new CatalogProjection();
    projection.apply(create(ProductCreatedSchema, product("p1", "Mug", 1)));
    projection.apply(create(ProductUpdatedSchema, product("p1", "Mug v3", 3)));
    expect(projection.apply(create(ProductUpdatedSchema, product("p1", "Mug v2", 2)))).toEqual({
      upserts: [],
      removals: [],
    });
    expect(projection.apply(create(ProductUpdatedSchema, product("p1", "Mug again", 3))).upserts).toEqual([]);
    expect(projection.product("p1")?.title).toBe("Mug v3");
  });

  it("removes archived products and keeps collection counts", () => {
    const projection = new CatalogProjection();
    projection.apply(create(ProductCreatedSchema, product("p1", "Mug", 1, ["c1"])));
    projection.apply(create(ProductCreatedSchema, product("p2", "Cup", 1, ["c1"])));
    const archived = projection.apply(create(ProductArchivedSchema, product("p1", "Mug", 2, ["c1"])));
    expect(archived).toEqual({ upserts: [], removals: ["p1"] });
    expect(projection.product("p1")).toBeUndefined();
    expect(projection.size.listed).toBe(1);
  });

  it("restores from its records to the same state", () => {
    const projection = new CatalogProjection();
    projection.apply(create(ProductCreatedSchema, product("p1", "Mug", 1, ["c1"])));
    projection.apply(stock("p1-a", 4, 2));
    const restored = CatalogProjection.restore(projection.records());
    expect(restored.product("p1")?.available).toBe(4n);
    expect(restored.apply(stock("p1-a", 9, 1))).toEqual({ upserts: [], removals: [] });
    expect(restored.apply(create(ProductUpdatedSchema, product("p1", "Mug", 1))).upserts).toEqual([]);
  });
});
