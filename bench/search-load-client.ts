// Load generator for the search benchmark, run as its own process so the client's work does not share the service's
// event loop: `node --import tsx bench/search-load-client.ts <url> <queries.json> <concurrency> <label> [mode]`
// prints one Measurement as JSON.
//
// Modes:
//   - `raw` (default): like wrk, it posts each query's Connect binary encoding, made once, over keep-alive HTTP/1.1
//     and reads the whole answer, decoding one in 64 to check it. Real customers decode on their own devices; on
//     this machine the client shares the cores with the servers it measures, so it should cost them as little as it
//     can (decoding a 20-hit page on every call takes as much CPU as the gateway does).
//   - `sdk`: the Connect client a storefront uses (the SDK's transport), decoding every answer: the latency a
//     customer's code sees.
import { readFileSync } from "node:fs";
import { fromBinary, fromJson, type JsonValue, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  SearchProductsRequestSchema,
  SearchProductsResponseSchema,
  SearchService,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { Pool } from "undici";
import { measure } from "./harness.js";

const [url, queriesFile, concurrency, label, mode = "raw"] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string?,
];
const queries = (JSON.parse(readFileSync(queriesFile, "utf8")) as JsonValue[]).map((json) =>
  fromJson(SearchProductsRequestSchema, json),
);

/** One call per query index: resolves once the whole answer arrived, throws on anything but a decodable success. */
function rawCaller(): (i: number) => Promise<unknown> {
  const pool = new Pool(url, { connections: Number(concurrency), pipelining: 1 });
  const bodies = queries.map((query) => Buffer.from(toBinary(SearchProductsRequestSchema, query)));
  const path = `/${SearchService.typeName}/${SearchService.method.searchProducts.name}`;
  // Connect binary without response compression, as storefronts' fetch transport (the SDK) calls it: gzip of a
  // 20-hit page costs about a millisecond on each side, which would hide what search itself costs.
  const headers = { "content-type": "application/proto", "connect-protocol-version": "1" };
  return async (i) => {
    const { statusCode, body } = await pool.request({
      path,
      method: "POST",
      headers,
      body: bodies[i % bodies.length],
    });
    const bytes = new Uint8Array(await body.arrayBuffer());
    if (statusCode !== 200) throw new Error(`status ${statusCode}`);
    // Throws on bytes that are not a SearchProductsResponse.
    if (i % 64 === 0) fromBinary(SearchProductsResponseSchema, bytes);
    return bytes;
  };
}

function sdkCaller(): (i: number) => Promise<unknown> {
  const client = createClient(
    SearchService,
    createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true, acceptCompression: [] }),
  );
  return (i) => client.searchProducts(queries[i % queries.length] as (typeof queries)[number]);
}

if (mode !== "raw" && mode !== "sdk") throw new Error(`unknown mode ${mode}: raw or sdk`);
const call = mode === "raw" ? rawCaller() : sdkCaller();
const result = await measure({ label, op: (_, i) => call(i), concurrency: Number(concurrency) });
process.stdout.write(`${JSON.stringify(result)}\n`);
