import type { DescService } from "@bufbuild/protobuf";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import { OrderService } from "@shop/contracts/shop/orders/v1/order_service_pb.js";
import { ProductService } from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { describe, expect, it } from "vitest";
import { carriesIdempotencyKey, isSafeToRepeat, newIdempotencyKey } from "./idempotency-keys.js";

const services: DescService[] = [ProductService, SearchService, InventoryService, OrderService, ApiKeyService];
const methods = services.flatMap((service) => service.methods.map((method) => ({ name: method.name, method })));

describe("which calls are safe to repeat", () => {
  // A new mutation in the contract lands in one of these lists on purpose: with a request_id, or here.
  it("repeats every call of the contract except these, which could apply twice or stream", () => {
    expect(methods.filter(({ method }) => !isSafeToRepeat(method)).map(({ name }) => name)).toEqual([
      "ArchiveProduct",
      "UpdateCollection",
      "ArchiveCollection",
      "AddProductsToCollection",
      "RemoveProductsFromCollection",
      "Reindex",
      "Rebuild",
      "CancelOrder",
      "FulfillOrder",
      "HandlePaymentWebhook",
      "RecoverOrders",
      "CreateApiKey",
      "RevokeApiKey",
    ]);
  });

  it("knows the mutations that carry the contract's idempotency key", () => {
    expect(methods.filter(({ method }) => carriesIdempotencyKey(method)).map(({ name }) => name)).toEqual([
      "CreateProduct",
      "BatchCreateProducts",
      "UpdateProduct",
      "CreateCollection",
      "SetStock",
      "Adjust",
      "CreateOrder",
      "RefundOrder",
    ]);
  });

  it("makes keys the contract accepts (8 to 128 characters) that do not repeat", () => {
    const keys = new Set(Array.from({ length: 1000 }, newIdempotencyKey));
    expect(keys.size).toBe(1000);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{32}$/);
  });
});
