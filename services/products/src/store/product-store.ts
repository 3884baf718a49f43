import type { Collection, Product, ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import { ProductStatus as Status } from "@shop/contracts/shop/products/v1/product_pb.js";
import type {
  CreateProductRequest,
  UpdateProductRequest,
} from "@shop/contracts/shop/products/v1/product_service_pb.js";
import { AlreadyExistsError, InvalidInputError, isDomainError, NotFoundError, PreconditionError } from "@shop/platform";
import { collectionRevision } from "../domain/collection-rules.js";
import { newProductId } from "../domain/ids.js";
import { decodePageToken, encodePageToken, queryFingerprint } from "../domain/page-token.js";
import {
  applyProductUpdate,
  archiveProduct,
  checkRevision,
  type NewProduct,
  prepareNewProduct,
  productSkus,
  productStatusWord,
} from "../domain/product-rules.js";
import { createProductEvents } from "../events.js";
import type { Tx } from "./database.js";
import { claimRequestIds, findAnswered, recordAnswered, releaseRequestIds } from "./idempotency-store.js";
import { collectionFromDoc, collectionToDoc, productFromDoc, productToDoc } from "./message-docs.js";
import { appendToOutbox } from "./outbox-writer.js";
import { createProductsInOneStatement } from "./product-create-statement.js";
import { claimSkus, releaseSkus } from "./sku-claims.js";
import { recordStockLevels } from "./stock-levels.js";
import type { Caller, StoreDeps } from "./store-context.js";

/** One item of a batch create: the product (new or replayed), or why this item failed. */
export type CreateOutcome =
  | { ok: true; product: Product; replayed: boolean }
  | { ok: false; error: Error; field: string };

export interface ProductPage {
  products: Product[];
  nextPageToken: string;
  totalSize: bigint;
}

export interface ProductStore {
  /** Creates each product on its own terms: one item's failure never fails the others. One transaction. */
  createProducts(requests: CreateProductRequest[], caller: Caller): Promise<CreateOutcome[]>;
  getProduct(id: string): Promise<Product>;
  listProducts(query: {
    status: ProductStatus;
    collectionId: string;
    pageSize: number;
    pageToken: string;
  }): Promise<ProductPage>;
  updateProduct(request: UpdateProductRequest, caller: Caller): Promise<Product>;
  archiveProduct(id: string, revision: bigint, caller: Caller): Promise<Product>;
}

/**
 * How creates are written. "one-statement" (the default): the common case — new request ids, free SKUs, no
 * collections, first stock levels — in one statement, anything else item by item in a transaction. "transaction": every
 * create item by item, so the products suite can hold the transaction to the same rules in the common case too.
 */
export type CreatePath = "one-statement" | "transaction";

/** The order claims and stock levels are written in, everywhere, so concurrent writers queue instead of deadlocking. */
const bySku = (a: { sku: string }, b: { sku: string }) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0);

const fail = (error: Error, field = ""): CreateOutcome => ({
  ok: false,
  error,
  field: field || (error as { field?: string }).field || "",
});

export function createProductStore(deps: StoreDeps, createPath: CreatePath = "one-statement"): ProductStore {
  const { db } = deps;

  const loadProducts = async (trx: Tx, ids: string[]) => {
    if (ids.length === 0) return new Map<string, Product>();
    const rows = await trx.selectFrom("products").select(["id", "doc"]).where("id", "in", ids).execute();
    return new Map(rows.map((row) => [row.id, productFromDoc(row.doc)]));
  };

  /** Locks the collections a batch joins (in id order) and returns the open ones. */
  const lockCollections = async (trx: Tx, ids: string[]) => {
    if (ids.length === 0) return new Map<string, Collection>();
    const rows = await trx
      .selectFrom("collections")
      .select(["id", "doc"])
      .where("id", "in", [...ids].sort())
      .orderBy("id")
      .forUpdate()
      .execute();
    return new Map(rows.map((row) => [row.id, collectionFromDoc(row.doc)]));
  };

  const lockProduct = async (trx: Tx, id: string) => {
    const row = await trx.selectFrom("products").select("doc").where("id", "=", id).forUpdate().executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`no product with id "${id}"`);
    return productFromDoc(row.doc);
  };

  const saveProduct = (trx: Tx, product: Product) =>
    trx
      .updateTable("products")
      .set({
        doc: productToDoc(product),
        status: productStatusWord[product.status],
        revision: product.revision,
        update_time: deps.clock(),
      })
      .where("id", "=", product.id)
      .execute();

  /**
   * The common create — new request ids, free SKUs, no collections — in one statement. False when it does not apply or
   * gave up; the transaction below then does the same work item by item and reports what stood in the way.
   */
  const createAtOnce = async (
    pending: Array<NewProduct & { requestId: string }>,
    caller: Caller,
    now: Date,
    events: ReturnType<typeof createProductEvents>,
  ): Promise<boolean> => {
    if (pending.length === 0 || pending.some((item) => item.product.collectionIds.length > 0)) return false;
    const skus = pending
      .flatMap((item) => productSkus(item.product).map((sku) => ({ sku, productId: item.product.id })))
      .sort(bySku);
    // Two items wanting one SKU: only the transaction can say which item got it.
    if (new Set(skus.map((claim) => claim.sku)).size !== skus.length) return false;
    const stock = pending
      .flatMap((item) =>
        item.initialStock.map((level) => ({ sku: level.sku, productId: item.product.id, quantity: level.quantity })),
      )
      .sort(bySku);
    return createProductsInOneStatement(db, {
      actor: caller.actor,
      now,
      products: pending.map(({ product, requestId }) => ({
        id: product.id,
        status: productStatusWord[product.status],
        revision: product.revision,
        doc: productToDoc(product),
        sellerId: product.sellerId,
        requestId,
      })),
      skus,
      stock,
      events: [
        ...pending.map((item) => events.productCreated(item.product)),
        ...stock.map((level) => events.stockLevelSet({ ...level, version: 1n })),
      ],
    });
  };

  const createProducts: ProductStore["createProducts"] = async (requests, caller) => {
    const now = deps.clock();
    const events = createProductEvents(deps.namespace, caller.correlationId);
    const outcomes: CreateOutcome[] = new Array(requests.length);
    let pending: Array<NewProduct & { index: number; requestId: string }> = [];
    const firstWithRequestId = new Map<string, number>();
    requests.forEach((request, index) => {
      if (request.requestId !== "") {
        const first = firstWithRequestId.get(request.requestId);
        if (first !== undefined) {
          outcomes[index] = fail(
            new InvalidInputError("request_id", `repeats item ${first} of this batch`),
            "request_id",
          );
          return;
        }
        firstWithRequestId.set(request.requestId, index);
      }
      try {
        pending.push({
          index,
          requestId: request.requestId,
          ...prepareNewProduct(request, newProductId(), now, caller.sellerId),
        });
      } catch (err) {
        if (!isDomainError(err)) throw err;
        outcomes[index] = fail(err);
      }
    });

    if (createPath === "one-statement" && (await createAtOnce(pending, caller, now, events))) {
      for (const item of pending) outcomes[item.index] = { ok: true, product: item.product, replayed: false };
      return outcomes;
    }

    return db.transaction().execute(async (trx) => {
      // Request ids first: a concurrent create with one of them waits here, then finds it answered below.
      const claimed = await claimRequestIds(
        trx,
        caller.actor,
        "CreateProduct",
        pending.map((item) => ({ requestId: item.requestId, resourceId: item.product.id })),
      );
      // Requests answered before (a retried call, a re-run import, the same request still in flight a moment ago) get
      // the product they made, untouched.
      const answered = await findAnswered(
        trx,
        caller.actor,
        "CreateProduct",
        pending.filter((item) => !claimed.has(item.requestId)).map((item) => item.requestId),
      );
      if (answered.size > 0) {
        const earlier = await loadProducts(trx, [...answered.values()]);
        pending = pending.filter((item) => {
          const productId = answered.get(item.requestId);
          const product = productId === undefined ? undefined : earlier.get(productId);
          if (product === undefined) return true;
          outcomes[item.index] = { ok: true, product, replayed: true };
          return false;
        });
      }

      const collections = await lockCollections(trx, [
        ...new Set(pending.flatMap((item) => item.product.collectionIds)),
      ]);
      pending = pending.filter((item) => {
        const bad = item.product.collectionIds.findIndex((id) => collections.get(id)?.archived !== false);
        if (bad < 0) return true;
        const id = item.product.collectionIds[bad] as string;
        const field = `product.collection_ids[${bad}]`;
        outcomes[item.index] = collections.has(id)
          ? fail(new PreconditionError(`collection ${id} is archived; products cannot join it`), field)
          : fail(new InvalidInputError(field, `no collection with id "${id}" (see \`shop collections list\`)`));
        return false;
      });

      const conflicts = await claimSkus(
        trx,
        pending.flatMap((item) => productSkus(item.product).map((sku) => ({ sku, productId: item.product.id }))),
      );
      if (conflicts.size > 0) {
        const losers = pending.filter((item) =>
          item.product.variants.some((variant) => conflicts.has(`${item.product.id}\u0000${variant.sku}`)),
        );
        for (const item of losers) {
          const i = item.product.variants.findIndex((v) => conflicts.has(`${item.product.id}\u0000${v.sku}`));
          const sku = item.product.variants[i]?.sku ?? "";
          const owner = conflicts.get(`${item.product.id}\u0000${sku}`)?.owner ?? "";
          const ownerItem = pending.find((other) => other.product.id === owner);
          const by = ownerItem ? `item ${ownerItem.index} of this batch` : `product ${owner}`;
          outcomes[item.index] = fail(
            new AlreadyExistsError(`SKU "${sku}" already belongs to ${by}; SKUs are unique across the catalog`),
            `product.variants[${i}].sku`,
          );
          await releaseSkus(trx, item.product.id);
        }
        pending = pending.filter((item) => !losers.includes(item));
      }
      const failed = [...claimed].filter((requestId) => !pending.some((item) => item.requestId === requestId));
      await releaseRequestIds(trx, caller.actor, "CreateProduct", failed);
      if (pending.length === 0) return outcomes;

      await trx
        .insertInto("products")
        .values(
          pending.map(({ product }) => ({
            id: product.id,
            status: productStatusWord[product.status],
            revision: product.revision,
            doc: productToDoc(product),
            seller_id: product.sellerId,
            create_time: now,
            update_time: now,
          })),
        )
        .execute();
      const stock = await recordStockLevels(
        trx,
        pending.flatMap((item) =>
          item.initialStock.map((level) => ({ sku: level.sku, productId: item.product.id, quantity: level.quantity })),
        ),
        now,
      );

      const joined = pending.flatMap((item) =>
        item.product.collectionIds.map((collectionId) => ({
          collection_id: collectionId,
          product_id: item.product.id,
        })),
      );
      const changedCollections: Collection[] = [];
      if (joined.length > 0) {
        await trx.insertInto("collection_products").values(joined).execute();
        for (const [id, collection] of collections) {
          const added = joined.filter((row) => row.collection_id === id).length;
          if (added === 0) continue;
          const next = collectionRevision(collection, { productCount: collection.productCount + BigInt(added) }, now);
          await trx
            .updateTable("collections")
            .set({ doc: collectionToDoc(next), revision: next.revision, update_time: now })
            .where("id", "=", id)
            .execute();
          changedCollections.push(next);
        }
      }

      await appendToOutbox(trx, [
        ...pending.map((item) => events.productCreated(item.product)),
        ...stock.map((level) => events.stockLevelSet(level)),
        ...changedCollections.map((collection) => events.collectionChanged(collection)),
      ]);
      for (const item of pending) outcomes[item.index] = { ok: true, product: item.product, replayed: false };
      return outcomes;
    });
  };

  const listProducts: ProductStore["listProducts"] = async (query) => {
    const fingerprint = queryFingerprint({ status: query.status, collectionId: query.collectionId });
    const [after] = decodePageToken(query.pageToken, fingerprint);
    if (after !== undefined && !/^\d+$/.test(after)) throw new InvalidInputError("page_token", "is damaged");
    const pageSize = query.pageSize || 50;
    const statuses =
      query.status === Status.UNSPECIFIED
        ? [productStatusWord[Status.DRAFT], productStatusWord[Status.ACTIVE]]
        : [productStatusWord[query.status]];
    let filtered = db.selectFrom("products").where("status", "in", statuses);
    if (query.collectionId !== "") {
      filtered = filtered.where("id", "in", (eb) =>
        eb.selectFrom("collection_products").select("product_id").where("collection_id", "=", query.collectionId),
      );
    }
    const [rows, count] = await Promise.all([
      (after === undefined ? filtered : filtered.where("seq", "<", after))
        .select(["seq", "doc"])
        .orderBy("seq", "desc")
        .limit(pageSize + 1)
        .execute(),
      filtered.select((eb) => eb.fn.countAll<string>().as("total")).executeTakeFirstOrThrow(),
    ]);
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return {
      products: page.map((row) => productFromDoc(row.doc)),
      nextPageToken: rows.length > pageSize && last ? encodePageToken([last.seq], fingerprint) : "",
      totalSize: BigInt(count.total),
    };
  };

  const updateProduct: ProductStore["updateProduct"] = async (request, caller) => {
    const patch = request.product;
    if (patch === undefined) throw new InvalidInputError("product", "is required");
    const now = deps.clock();
    const events = createProductEvents(deps.namespace, caller.correlationId);
    return db.transaction().execute(async (trx) => {
      const answered = await findAnswered(trx, caller.actor, "UpdateProduct", [request.requestId]);
      const current = await lockProduct(trx, patch.id);
      if (answered.has(request.requestId)) return current;
      checkRevision("product", patch.id, current.revision, patch.revision, "product.revision");
      const { product, changed } = applyProductUpdate(current, patch, request.updateMask?.paths ?? [], now);
      if (changed.length === 0) return current;

      const stockEvents = [];
      if (changed.includes("variants")) {
        const before = new Set(productSkus(current));
        const after = new Set(productSkus(product));
        const added = [...after].filter((sku) => !before.has(sku));
        const removed = [...before].filter((sku) => !after.has(sku));
        const conflicts = await claimSkus(
          trx,
          added.map((sku) => ({ sku, productId: product.id })),
        );
        const [taken] = [...conflicts.keys()].map((key) => key.split("\u0000")[1] as string);
        if (taken !== undefined) {
          const i = product.variants.findIndex((variant) => variant.sku === taken);
          const owner = conflicts.get(`${product.id}\u0000${taken}`)?.owner;
          throw new AlreadyExistsError(
            `product.variants[${i}].sku: SKU "${taken}" already belongs to product ${owner}; SKUs are unique across the catalog`,
          );
        }
        await releaseSkus(trx, product.id, removed);
        // A SKU the product no longer sells has no stock to offer.
        const zeroed = await recordStockLevels(
          trx,
          removed.map((sku) => ({ sku, productId: product.id, quantity: 0n })),
          now,
        );
        stockEvents.push(...zeroed.map((level) => events.stockLevelSet(level)));
      }
      await saveProduct(trx, product);
      await appendToOutbox(trx, [events.productUpdated(product, changed), ...stockEvents]);
      await recordAnswered(trx, caller.actor, "UpdateProduct", [
        { requestId: request.requestId, resourceId: product.id },
      ]);
      return product;
    });
  };

  const archive: ProductStore["archiveProduct"] = async (id, revision, caller) => {
    const events = createProductEvents(deps.namespace, caller.correlationId);
    return db.transaction().execute(async (trx) => {
      const current = await lockProduct(trx, id);
      if (revision !== 0n) checkRevision("product", id, current.revision, revision, "revision");
      if (current.status === Status.ARCHIVED) return current;
      const product = archiveProduct(current, deps.clock());
      await saveProduct(trx, product);
      await appendToOutbox(trx, [events.productArchived(product)]);
      return product;
    });
  };

  return {
    createProducts,
    async getProduct(id) {
      const row = await db.selectFrom("products").select("doc").where("id", "=", id).executeTakeFirst();
      if (row === undefined) throw new NotFoundError(`no product with id "${id}"`);
      return productFromDoc(row.doc);
    },
    listProducts,
    updateProduct,
    archiveProduct: archive,
  };
}
