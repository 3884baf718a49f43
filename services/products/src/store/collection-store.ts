import type { Collection, Product } from "@shop/contracts/shop/products/v1/product_pb.js";
import { ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import { AlreadyExistsError, InvalidInputError, NotFoundError, PreconditionError } from "@shop/platform";
import {
  applyCollectionUpdate,
  checkCollectionOpen,
  collectionRevision,
  prepareNewCollection,
} from "../domain/collection-rules.js";
import { newCollectionId } from "../domain/ids.js";
import { decodePageToken, encodePageToken, queryFingerprint } from "../domain/page-token.js";
import { checkRevision, withCollections } from "../domain/product-rules.js";
import { createProductEvents } from "../events.js";
import type { Tx } from "./database.js";
import { findAnswered, recordAnswered } from "./idempotency-store.js";
import { collectionFromDoc, collectionToDoc, productFromDoc, productToDoc } from "./message-docs.js";
import { appendToOutbox } from "./outbox-writer.js";
import type { Caller, StoreDeps } from "./store-context.js";

export interface CollectionStore {
  createCollection(collection: Collection, requestId: string, caller: Caller): Promise<Collection>;
  getCollection(id: string): Promise<Collection>;
  listCollections(query: {
    pageSize: number;
    pageToken: string;
    includeArchived: boolean;
  }): Promise<{ collections: Collection[]; nextPageToken: string }>;
  updateCollection(collection: Collection, paths: string[], caller: Caller): Promise<Collection>;
  archiveCollection(id: string, revision: bigint, caller: Caller): Promise<Collection>;
  /** Adds products (each one's collection_ids and the collection's count change, with their events). */
  addProducts(collectionId: string, productIds: string[], caller: Caller): Promise<Collection>;
  removeProducts(collectionId: string, productIds: string[], caller: Caller): Promise<Collection>;
}

const uniqueViolation = "23505";

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === uniqueViolation;
}

export function createCollectionStore(deps: StoreDeps): CollectionStore {
  const { db } = deps;

  const lockCollection = async (trx: Tx, id: string) => {
    const row = await trx.selectFrom("collections").select("doc").where("id", "=", id).forUpdate().executeTakeFirst();
    if (row === undefined) throw new NotFoundError(`no collection with id "${id}"`);
    return collectionFromDoc(row.doc);
  };

  const saveCollection = (trx: Tx, collection: Collection) =>
    trx
      .updateTable("collections")
      .set({
        doc: collectionToDoc(collection),
        handle: collection.handle,
        archived: collection.archived,
        revision: collection.revision,
        update_time: deps.clock(),
      })
      .where("id", "=", collection.id)
      .execute();

  /** Locks the products in id order (the same order everywhere, so membership changes never deadlock). */
  const lockProducts = async (trx: Tx, ids: string[]) => {
    const rows = await trx
      .selectFrom("products")
      .select(["id", "doc"])
      .where("id", "in", [...ids].sort())
      .orderBy("id")
      .forUpdate()
      .execute();
    const products = rows.map((row) => productFromDoc(row.doc));
    const found = new Set(products.map((product) => product.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new NotFoundError(`no product with id ${missing.map((id) => `"${id}"`).join(", ")}`);
    return products;
  };

  /** Shared by add and remove: new memberships for the products, then one new collection revision. */
  const changeMembership = async (
    collectionId: string,
    productIds: string[],
    caller: Caller,
    change: "add" | "remove",
  ) => {
    const now = deps.clock();
    const events = createProductEvents(deps.namespace, caller.correlationId);
    return db.transaction().execute(async (trx) => {
      const collection = await lockCollection(trx, collectionId);
      checkCollectionOpen(collection);
      const products = await lockProducts(trx, productIds);
      const archived = products.find((product) => product.status === ProductStatus.ARCHIVED);
      if (archived !== undefined && change === "add") {
        throw new PreconditionError(`product ${archived.id} is archived; archived products cannot join a collection`);
      }
      const affected: Product[] =
        change === "add"
          ? products.filter((product) => !product.collectionIds.includes(collectionId))
          : products.filter((product) => product.collectionIds.includes(collectionId));
      if (affected.length === 0) return collection;

      const affectedIds = affected.map((product) => product.id);
      if (change === "add") {
        await trx
          .insertInto("collection_products")
          .values(affectedIds.map((productId) => ({ collection_id: collectionId, product_id: productId })))
          .execute();
      } else {
        await trx
          .deleteFrom("collection_products")
          .where("collection_id", "=", collectionId)
          .where("product_id", "in", affectedIds)
          .execute();
      }
      const updatedProducts = affected.map((product) =>
        withCollections(
          product,
          change === "add"
            ? [...product.collectionIds, collectionId]
            : product.collectionIds.filter((id) => id !== collectionId),
          now,
        ),
      );
      for (const product of updatedProducts) {
        await trx
          .updateTable("products")
          .set({ doc: productToDoc(product), revision: product.revision, update_time: now })
          .where("id", "=", product.id)
          .execute();
      }
      const delta = BigInt(change === "add" ? affected.length : -affected.length);
      const next = collectionRevision(collection, { productCount: collection.productCount + delta }, now);
      await saveCollection(trx, next);
      await appendToOutbox(trx, [
        ...updatedProducts.map((product) => events.productUpdated(product, ["collection_ids"])),
        events.collectionChanged(next),
      ]);
      return next;
    });
  };

  return {
    async createCollection(input, requestId, caller) {
      const events = createProductEvents(deps.namespace, caller.correlationId);
      const now = deps.clock();
      const collection = prepareNewCollection(input, newCollectionId(), now);
      return db.transaction().execute(async (trx) => {
        const answered = await findAnswered(trx, caller.actor, "CreateCollection", [requestId]);
        const earlier = answered.get(requestId);
        if (earlier !== undefined) return lockCollection(trx, earlier);
        const inserted = await trx
          .insertInto("collections")
          .values({
            id: collection.id,
            handle: collection.handle,
            archived: false,
            revision: collection.revision,
            doc: collectionToDoc(collection),
            create_time: now,
            update_time: now,
          })
          .onConflict((oc) => oc.column("handle").doNothing())
          .returning("id")
          .executeTakeFirst();
        if (inserted === undefined) {
          throw new AlreadyExistsError(
            `collection.handle: "${collection.handle}" is taken by another collection; choose another handle`,
          );
        }
        await appendToOutbox(trx, [events.collectionChanged(collection)]);
        await recordAnswered(trx, caller.actor, "CreateCollection", [{ requestId, resourceId: collection.id }]);
        return collection;
      });
    },

    async getCollection(id) {
      const row = await db.selectFrom("collections").select("doc").where("id", "=", id).executeTakeFirst();
      if (row === undefined) throw new NotFoundError(`no collection with id "${id}"`);
      return collectionFromDoc(row.doc);
    },

    async listCollections(query) {
      const fingerprint = queryFingerprint({ includeArchived: query.includeArchived });
      const [after] = decodePageToken(query.pageToken, fingerprint);
      if (after !== undefined && !/^\d+$/.test(after)) throw new InvalidInputError("page_token", "is damaged");
      const pageSize = query.pageSize || 100;
      let select = db.selectFrom("collections").select(["seq", "doc"]);
      if (!query.includeArchived) select = select.where("archived", "=", false);
      if (after !== undefined) select = select.where("seq", ">", after);
      const rows = await select
        .orderBy("seq", "asc")
        .limit(pageSize + 1)
        .execute();
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      return {
        collections: page.map((row) => collectionFromDoc(row.doc)),
        nextPageToken: rows.length > pageSize && last ? encodePageToken([last.seq], fingerprint) : "",
      };
    },

    async updateCollection(patch, paths, caller) {
      const events = createProductEvents(deps.namespace, caller.correlationId);
      try {
        return await db.transaction().execute(async (trx) => {
          const current = await lockCollection(trx, patch.id);
          checkRevision("collection", patch.id, current.revision, patch.revision, "collection.revision");
          const next = applyCollectionUpdate(current, patch, paths, deps.clock());
          if (next === current) return current;
          await saveCollection(trx, next);
          await appendToOutbox(trx, [events.collectionChanged(next)]);
          return next;
        });
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new AlreadyExistsError(`collection.handle: "${patch.handle}" is taken by another collection`);
        }
        throw err;
      }
    },

    async archiveCollection(id, revision, caller) {
      const events = createProductEvents(deps.namespace, caller.correlationId);
      return db.transaction().execute(async (trx) => {
        const current = await lockCollection(trx, id);
        if (revision !== 0n) checkRevision("collection", id, current.revision, revision, "revision");
        if (current.archived) return current;
        const next = collectionRevision(current, { archived: true }, deps.clock());
        await saveCollection(trx, next);
        await appendToOutbox(trx, [events.collectionChanged(next)]);
        return next;
      });
    },

    addProducts: (collectionId, productIds, caller) => changeMembership(collectionId, productIds, caller, "add"),
    removeProducts: (collectionId, productIds, caller) => changeMembership(collectionId, productIds, caller, "remove"),
  };
}
