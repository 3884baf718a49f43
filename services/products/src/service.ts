import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { ApiKeyService } from "@shop/contracts/shop/identity/v1/api_key_service_pb.js";
import {
  BatchCreateProductResultSchema,
  BatchCreateProductsResponseSchema,
  GetStockLevelsResponseSchema,
  ListCollectionsResponseSchema,
  ListProductsResponseSchema,
  ProductService,
  SetStockResponseSchema,
} from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { type ApiKeyRegistry, InvalidInputError, type ServiceDefinition, toConnectError } from "@shop/platform";
import { sql } from "kysely";
import { createApiKeyService } from "./api-key-service.js";
import { callerOf } from "./caller.js";
import { createApiKeyStore } from "./store/api-key-store.js";
import { createCollectionStore } from "./store/collection-store.js";
import type { Db } from "./store/database.js";
import { type CreateOutcome, type CreatePath, createProductStore } from "./store/product-store.js";
import { createStockStore } from "./store/stock-store.js";

export interface ProductsServiceOptions {
  db: Db;
  /** SHOP_NAMESPACE: events written to the outbox are addressed in it. */
  namespace: string;
  /** The platform's key registry: keys created or revoked here take effect on this replica at once. */
  apiKeys: ApiKeyRegistry;
  /** Default: the system clock. */
  clock?: () => Date;
  /** How creates are written (see `CreatePath`). Default "one-statement". */
  createPath?: CreatePath;
}

function batchResult(outcome: CreateOutcome) {
  if (outcome.ok)
    return create(BatchCreateProductResultSchema, { product: outcome.product, replayed: outcome.replayed });
  const { error } = toConnectError(outcome.error, "");
  return create(BatchCreateProductResultSchema, {
    errorCode: codeToString(error.code),
    errorMessage: error.rawMessage,
    errorField: outcome.field,
  });
}

/** ProductService and ApiKeyService on one port: the Connect side of the products service, thin over its stores. */
export function createProductsService(options: ProductsServiceOptions): ServiceDefinition {
  const deps = { db: options.db, namespace: options.namespace, clock: options.clock ?? (() => new Date()) };
  const products = createProductStore(deps, options.createPath);
  const collections = createCollectionStore(deps);
  const stock = createStockStore(deps);

  const productService: ServiceImpl<typeof ProductService> = {
    async createProduct(req, ctx) {
      const [outcome] = await products.createProducts([req], callerOf(ctx));
      if (outcome === undefined) throw new Error("createProducts returned no outcome");
      if (!outcome.ok) throw outcome.error;
      return outcome.product;
    },
    async batchCreateProducts(req, ctx) {
      const outcomes = await products.createProducts(req.requests, callerOf(ctx));
      return create(BatchCreateProductsResponseSchema, { results: outcomes.map(batchResult) });
    },
    getProduct: (req) => products.getProduct(req.id),
    async listProducts(req) {
      return create(ListProductsResponseSchema, await products.listProducts(req));
    },
    updateProduct: (req, ctx) => products.updateProduct(req, callerOf(ctx)),
    archiveProduct: (req, ctx) => products.archiveProduct(req.id, req.revision, callerOf(ctx)),

    createCollection: (req, ctx) => {
      if (req.collection === undefined) throw new InvalidInputError("collection", "is required");
      return collections.createCollection(req.collection, req.requestId, callerOf(ctx));
    },
    getCollection: (req) => collections.getCollection(req.id),
    async listCollections(req) {
      return create(ListCollectionsResponseSchema, await collections.listCollections(req));
    },
    updateCollection: (req, ctx) => {
      if (req.collection === undefined) throw new InvalidInputError("collection", "is required");
      return collections.updateCollection(req.collection, req.updateMask?.paths ?? [], callerOf(ctx));
    },
    archiveCollection: (req, ctx) => collections.archiveCollection(req.id, req.revision, callerOf(ctx)),
    addProductsToCollection: (req, ctx) => collections.addProducts(req.collectionId, req.productIds, callerOf(ctx)),
    removeProductsFromCollection: (req, ctx) =>
      collections.removeProducts(req.collectionId, req.productIds, callerOf(ctx)),

    async setStock(req, ctx) {
      return create(SetStockResponseSchema, { levels: await stock.setStock(req.levels, req.requestId, callerOf(ctx)) });
    },
    async getStockLevels(req) {
      return create(GetStockLevelsResponseSchema, { levels: await stock.getStockLevels(req.skus) });
    },
  };

  return {
    name: "products",
    routes(router) {
      router.service(ProductService, productService);
      router.service(ApiKeyService, createApiKeyService(createApiKeyStore(deps), options.apiKeys));
    },
    async isReady() {
      try {
        await sql`select 1`.execute(options.db);
        return true;
      } catch {
        return false;
      }
    },
  };
}
