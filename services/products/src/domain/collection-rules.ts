import { clone } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Collection, CollectionSchema } from "@shop/contracts/shop/products/v1/product_pb.js";
import { InvalidInputError, PreconditionError } from "@shop/platform";

const writableFields = ["title", "description", "handle"] as const;

function checkCollectionRules(collection: Collection): void {
  if (collection.title.trim() === "") throw new InvalidInputError("collection.title", "must not be blank");
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(collection.handle)) {
    throw new InvalidInputError("collection.handle", "use lower-case letters, digits and dashes, e.g. kitchen");
  }
}

export function prepareNewCollection(input: Collection, id: string, now: Date): Collection {
  const collection = clone(CollectionSchema, input);
  checkCollectionRules(collection);
  collection.id = id;
  collection.archived = false;
  collection.revision = 1n;
  collection.productCount = 0n;
  collection.createTime = timestampFromDate(now);
  collection.updateTime = timestampFromDate(now);
  return collection;
}

export function checkCollectionOpen(collection: Collection): void {
  if (collection.archived) {
    throw new PreconditionError(`collection ${collection.id} is archived; archived collections cannot be changed`);
  }
}

export function applyCollectionUpdate(current: Collection, patch: Collection, paths: string[], now: Date): Collection {
  checkCollectionOpen(current);
  const fields = paths.length === 0 ? [...writableFields] : paths;
  const next = clone(CollectionSchema, current);
  for (const field of fields) {
    if (field === "title") next.title = patch.title;
    else if (field === "description") next.description = patch.description;
    else if (field === "handle") next.handle = patch.handle;
    else {
      throw new InvalidInputError(
        "update_mask",
        `"${field}" cannot be changed; writable fields are ${writableFields.join(", ")}`,
      );
    }
  }
  checkCollectionRules(next);
  if (next.title === current.title && next.description === current.description && next.handle === current.handle) {
    return current;
  }
  next.revision = current.revision + 1n;
  next.updateTime = timestampFromDate(now);
  return next;
}

/** A new revision of the collection: archived, or with a changed product count. */
export function collectionRevision(
  current: Collection,
  change: Partial<Pick<Collection, "archived" | "productCount">>,
  now: Date,
): Collection {
  const next = clone(CollectionSchema, current);
  if (change.archived !== undefined) next.archived = change.archived;
  if (change.productCount !== undefined) next.productCount = change.productCount;
  next.revision = current.revision + 1n;
  next.updateTime = timestampFromDate(now);
  return next;
}
