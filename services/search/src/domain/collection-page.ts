import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";
import { PageCursorSchema } from "@shop/contracts/shop/common/v1/audit_pb.js";
import type { CatalogCollection } from "@shop/contracts/shop/search/v1/search_pb.js";
import {
  type ListCollectionsRequest,
  type ListCollectionsResponse,
  ListCollectionsResponseSchema,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { InvalidInputError } from "@shop/platform";

const fingerprint = "collections";
export const defaultCollectionPageSize = 100;

const byHandle = (a: CatalogCollection, b: CatalogCollection) =>
  a.handle !== b.handle ? (a.handle < b.handle ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** One page of collections ordered by handle; the token holds the last handle and id (a PageCursor). */
export function collectionPage(
  collections: CatalogCollection[],
  request: ListCollectionsRequest,
): ListCollectionsResponse {
  const sorted = [...collections].sort(byHandle);
  let start = 0;
  if (request.pageToken) {
    let after: string[];
    try {
      const cursor = fromBinary(PageCursorSchema, base64Decode(request.pageToken));
      if (cursor.queryFingerprint !== fingerprint || cursor.after.length !== 2) throw new Error("not ours");
      after = cursor.after;
    } catch {
      throw new InvalidInputError("page_token", "is not a page token of ListCollections; start without one");
    }
    const [handle, id] = after as [string, string];
    start = sorted.findIndex((c) => c.handle > handle || (c.handle === handle && c.id > id));
    if (start < 0) start = sorted.length;
  }
  const size = request.pageSize || defaultCollectionPageSize;
  const page = sorted.slice(start, start + size);
  const last = page.at(-1);
  const token =
    start + size < sorted.length && last
      ? base64Encode(
          toBinary(
            PageCursorSchema,
            create(PageCursorSchema, { after: [last.handle, last.id], queryFingerprint: fingerprint }),
          ),
          "url",
        )
      : "";
  return create(ListCollectionsResponseSchema, { collections: page, nextPageToken: token });
}
