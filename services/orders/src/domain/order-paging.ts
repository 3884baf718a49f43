import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PageCursorSchema } from "@shop/contracts/shop/common/v1/audit_pb.js";
import type { Order } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { InvalidInputError } from "@shop/platform";

/** ListOrders' page size when the request names none. */
const defaultPageSize = 50;

/**
 * Where an order sorts in a listing, newest first: its creation time in milliseconds, zero-padded so the strings
 * compare as the numbers do, then its id, which breaks ties of one millisecond. Neither ever changes for an order, so
 * a page boundary stays put when orders are placed or change state between two pages.
 */
export function orderSortKey(order: Order): string {
  const seconds = order.createTime?.seconds ?? 0n;
  const ms = seconds * 1000n + BigInt(Math.floor((order.createTime?.nanos ?? 0) / 1_000_000));
  return `${ms.toString().padStart(15, "0")}:${order.id}`;
}

/** Newest first: a larger sort key first. */
const newestFirst = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

const sortKeyPattern = /^\d{15}:[A-Za-z0-9_-]{1,64}$/;

/** A listing's filters as the token carries them: a digest, so a token shows no customer or seller id. */
const digestOf = (filters: string) => createHash("sha256").update(filters).digest("base64url").slice(0, 22);

/**
 * The opaque page_token after `lastKey`, bound to the listing's filters (`filters`, any text naming them): reused with
 * other filters it is refused rather than silently skipping orders.
 */
export function encodeOrderPageToken(lastKey: string, filters: string): string {
  const cursor = create(PageCursorSchema, { after: [lastKey], queryFingerprint: digestOf(filters) });
  return Buffer.from(toBinary(PageCursorSchema, cursor)).toString("base64url");
}

/** The sort key a page_token continues after; undefined for the first page. Anything else → InvalidInputError. */
function decodeOrderPageToken(token: string, filters: string): string | undefined {
  if (token === "") return undefined;
  let cursor: ReturnType<typeof fromBinary<typeof PageCursorSchema>> | undefined;
  try {
    cursor = fromBinary(PageCursorSchema, Buffer.from(token, "base64url"));
  } catch {
    cursor = undefined;
  }
  const after = cursor?.after.length === 1 ? cursor.after[0] : undefined;
  if (cursor === undefined || after === undefined || !sortKeyPattern.test(after)) {
    throw new InvalidInputError("page_token", "not a token from ListOrders; start again without it");
  }
  if (cursor.queryFingerprint !== digestOf(filters)) {
    throw new InvalidInputError("page_token", "belongs to a listing with other filters; start again without it");
  }
  return after;
}

/**
 * One page of `orders` (the listing's matches, in any order) after the token's position, newest first, and the token
 * of the next page. `filters` names the listing's filters, so a token is only taken back with the same ones.
 */
export function pageOfOrders(
  orders: Order[],
  request: { pageSize: number; pageToken: string; filters: string },
): { orders: Order[]; nextPageToken: string } {
  const after = decodeOrderPageToken(request.pageToken, request.filters);
  const size = request.pageSize > 0 ? request.pageSize : defaultPageSize;
  const keyed = orders
    .map((order) => ({ key: orderSortKey(order), order }))
    .filter(({ key }) => after === undefined || key < after)
    .sort((a, b) => newestFirst(a.key, b.key));
  const page = keyed.slice(0, size);
  const last = page.at(-1);
  return {
    orders: page.map(({ order }) => order),
    nextPageToken: keyed.length > size && last !== undefined ? encodeOrderPageToken(last.key, request.filters) : "",
  };
}
