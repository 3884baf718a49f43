// Load generator for the search benchmark, run as its own process so the client's work (HTTP, decoding) does not
// share the service's event loop: `node --import tsx bench/search-load-client.ts <url> <queries.json> <concurrency>
// <label>` prints one Measurement as JSON.
import { readFileSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SearchProductsRequestSchema, SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { measure } from "./harness.js";

const [url, queriesFile, concurrency, label] = process.argv.slice(2) as [string, string, string, string];
const queries = (JSON.parse(readFileSync(queriesFile, "utf8")) as JsonValue[]).map((json) =>
  fromJson(SearchProductsRequestSchema, json),
);
// Connect binary without response compression, as storefronts' fetch transport (the SDK) calls it: gzip of a
// 20-hit page costs about a millisecond on each side, which would hide what search itself costs.
const client = createClient(
  SearchService,
  createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true, acceptCompression: [] }),
);
const result = await measure({
  label,
  op: (_, i) => client.searchProducts(queries[i % queries.length] as (typeof queries)[number]),
  concurrency: Number(concurrency),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
