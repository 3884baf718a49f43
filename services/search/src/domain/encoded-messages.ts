import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { SearchProductsResponse } from "@shop/contracts/shop/search/v1/search_service_pb.js";

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

const productTag = (1 << 3) | WireType.LengthDelimited;
const scoreTag = (2 << 3) | WireType.Bit64;

/**
 * Appends encoded SearchHit entries (field 1 of SearchProductsResponse: product = 1, score = 2) to `response` as
 * unknown fields: repeated fields may come in any order and are concatenated, so the client decodes them as hits.
 * Each entry is one allocation (length, product tag and length, the product, the score), as it runs for every hit.
 */
export function appendEncodedHits(
  response: SearchProductsResponse,
  hits: ReadonlyArray<{ encoded: Uint8Array; score: number }>,
): SearchProductsResponse {
  const unknown = (response.$unknown ??= []);
  for (const { encoded, score } of hits) {
    // proto3 leaves a zero score out, as toBinary would.
    const hitSize = 1 + varintSize(encoded.length) + encoded.length + (score === 0 ? 0 : 9);
    const data = new Uint8Array(varintSize(hitSize) + hitSize);
    let at = writeVarint(data, 0, hitSize);
    data[at++] = productTag;
    at = writeVarint(data, at, encoded.length);
    data.set(encoded, at);
    at += encoded.length;
    if (score !== 0) {
      data[at++] = scoreTag;
      new DataView(data.buffer, at, 8).setFloat64(0, score, true);
    }
    unknown.push({ no: 1, wireType: WireType.LengthDelimited, data });
  }
  return response;
}
