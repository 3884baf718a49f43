import { createHash } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PageCursorSchema } from "@shop/contracts/shop/common/v1/audit_pb.js";
import { InvalidInputError } from "@shop/platform";
import { stableJson } from "./stable-json.js";

/** A short hash of the filters a page token was issued for. */
export function queryFingerprint(filters: object): string {
  return createHash("sha256").update(stableJson(filters)).digest("base64url").slice(0, 16);
}

/** An opaque token (base64url PageCursor) continuing after `after`, bound to the query's filters. */
export function encodePageToken(after: string[], fingerprint: string): string {
  return Buffer.from(
    toBinary(PageCursorSchema, create(PageCursorSchema, { after, queryFingerprint: fingerprint })),
  ).toString("base64url");
}

/** The sort key values a token continues after; empty for the first page. Refuses tokens of another query. */
export function decodePageToken(token: string, fingerprint: string): string[] {
  if (token === "") return [];
  let after: string[];
  let issuedFor: string;
  try {
    const cursor = fromBinary(PageCursorSchema, Buffer.from(token, "base64url"));
    after = cursor.after;
    issuedFor = cursor.queryFingerprint;
  } catch {
    throw new InvalidInputError("page_token", "not a token this service issued; start again without it");
  }
  if (issuedFor !== fingerprint) {
    throw new InvalidInputError("page_token", "belongs to a query with other filters; start again without it");
  }
  return after;
}
