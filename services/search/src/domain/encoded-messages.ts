import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { SearchProductsResponse } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import type { ProductEncoding } from "./catalog-product.js";

/**
 * A message that serializes to `encoded` (a valid, non-empty encoding of `schema`) without being decoded: toBinary
 * writes unknown fields verbatim, each after its tag, so the first tag becomes the field and the rest its data. Only
 * for binary responses: toJson skips unknown fields.
 */
export function preEncoded<Desc extends DescMessage>(schema: Desc, encoded: Uint8Array): MessageShape<Desc> {
  const message = create(schema);
  const reader = new BinaryReader(encoded);
  const [no, wireType] = reader.tag();
  message.$unknown = [{ no, wireType, data: encoded.subarray(reader.pos) }];
  return message;
}

/** Bytes of `value` as a varint (lengths only: non-negative and below 2^31). */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(target: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    target[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  target[at++] = value;
  return at;
}

const hitTag = (1 << 3) | WireType.LengthDelimited;
const productTag = (1 << 3) | WireType.LengthDelimited;
const scoreTag = (2 << 3) | WireType.Bit64;

/** Bytes of one SearchHit's encoding (product = 1, score = 2); proto3 leaves a zero score out, as toBinary would. */
const hitSize = (encoded: ProductEncoding, score: number) =>
  1 + varintSize(encoded.length) + encoded.length + (score === 0 ? 0 : 9);

/**
 * Appends the encoded SearchHit entries (field 1 of SearchProductsResponse) to `response` as one unknown field, all in
 * one buffer: toBinary writes an unknown field's tag and then its data verbatim, so the data holds the first hit's
 * length and bytes and then each further hit with its own tag. Repeated fields may come in any order and are
 * concatenated, so the client decodes them as hits. A packed product (a latin1 string, one byte per character) is
 * written into the buffer as it is, with no copy of its own.
 */
export function appendEncodedHits(
  response: SearchProductsResponse,
  hits: ReadonlyArray<{ encoded: ProductEncoding; score: number }>,
): SearchProductsResponse {
  if (hits.length === 0) return response;
  let total = 0;
  for (const { encoded, score } of hits) {
    const size = hitSize(encoded, score);
    total += 1 + varintSize(size) + size;
  }
  // The first hit's tag is the unknown field's own.
  const data = Buffer.allocUnsafe(total - 1);
  let at = 0;
  for (const { encoded, score } of hits) {
    if (at > 0) data[at++] = hitTag;
    at = writeVarint(data, at, hitSize(encoded, score));
    data[at++] = productTag;
    at = writeVarint(data, at, encoded.length);
    if (typeof encoded === "string") at += data.write(encoded, at, "latin1");
    else {
      data.set(encoded, at);
      at += encoded.length;
    }
    if (score !== 0) {
      data[at++] = scoreTag;
      at = data.writeDoubleLE(score, at);
    }
  }
  (response.$unknown ??= []).push({ no: 1, wireType: WireType.LengthDelimited, data });
  return response;
}
