import { create } from "@bufbuild/protobuf";
import type { Role } from "@shop/contracts/shop/common/v1/access_pb.js";
import { ApiKeyCreatedSchema, ApiKeyRevokedSchema } from "@shop/contracts/shop/identity/v1/events_pb.js";
import {
  CollectionChangedSchema,
  ProductArchivedSchema,
  ProductCreatedSchema,
  ProductUpdatedSchema,
  StockLevelSetSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import type { Collection, Product } from "@shop/contracts/shop/products/v1/product_pb.js";
import { type EncodedEvent, encodeEvent, newEventMeta } from "@shop/platform";

/**
 * The events the products service publishes, all through its outbox: product and collection changes and stock levels
 * on PRODUCTS (search and inventory follow them), API keys on IDENTITY (every service's platform follows them). It
 * consumes none. Aggregate versions are the product/collection revision, the SKU's stock version, and 1/2 for a key's
 * creation/revocation.
 */
export interface ProductEvents {
  productCreated(product: Product): EncodedEvent;
  productUpdated(product: Product, changedFields: string[]): EncodedEvent;
  productArchived(product: Product): EncodedEvent;
  collectionChanged(collection: Collection): EncodedEvent;
  stockLevelSet(level: { sku: string; quantity: bigint; productId: string; version: bigint }): EncodedEvent;
  apiKeyCreated(key: { id: string; role: Role; secretSha256: string }): EncodedEvent;
  apiKeyRevoked(keyId: string): EncodedEvent;
}

/** Event builders for one request: `correlationId` (the request id) ties every event back to it. */
export function createProductEvents(namespace: string, correlationId = ""): ProductEvents {
  const meta = (aggregateId: string, version: bigint) => newEventMeta(aggregateId, version, { correlationId });
  return {
    productCreated: (product) =>
      encodeEvent(
        ProductCreatedSchema,
        create(ProductCreatedSchema, { meta: meta(product.id, product.revision), product }),
        namespace,
      ),
    productUpdated: (product, changedFields) =>
      encodeEvent(
        ProductUpdatedSchema,
        create(ProductUpdatedSchema, { meta: meta(product.id, product.revision), product, changedFields }),
        namespace,
      ),
    productArchived: (product) =>
      encodeEvent(
        ProductArchivedSchema,
        create(ProductArchivedSchema, { meta: meta(product.id, product.revision), product }),
        namespace,
      ),
    collectionChanged: (collection) =>
      encodeEvent(
        CollectionChangedSchema,
        create(CollectionChangedSchema, { meta: meta(collection.id, collection.revision), collection }),
        namespace,
      ),
    stockLevelSet: (level) =>
      encodeEvent(
        StockLevelSetSchema,
        create(StockLevelSetSchema, {
          meta: meta(level.sku, level.version),
          sku: level.sku,
          quantity: level.quantity,
          productId: level.productId,
        }),
        namespace,
      ),
    apiKeyCreated: (key) =>
      encodeEvent(
        ApiKeyCreatedSchema,
        create(ApiKeyCreatedSchema, {
          meta: meta(key.id, 1n),
          keyId: key.id,
          role: key.role,
          secretSha256: key.secretSha256,
        }),
        namespace,
      ),
    apiKeyRevoked: (keyId) =>
      encodeEvent(ApiKeyRevokedSchema, create(ApiKeyRevokedSchema, { meta: meta(keyId, 2n), keyId }), namespace),
  };
}
