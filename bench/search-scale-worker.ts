// One catalog size of the scale benchmark, in a process of its own (run with --expose-gc): replays the generated
// catalog's events into the read model as a rebuild does (collections, stock, then products), then runs the query mix
// in process on the path binary responses take. Prints one JSON line.
// With `serve` as the third argument it stays up instead, prints its URL as a JSON line, and runs until its stdin
// closes, answering over bare node:http:
//   - any POST: a SearchProductsRequest's binary encoding in, the binary answer out: the floor any Node HTTP server
//     pays to put the engine on a socket;
//   - GET /measure: the harness's Measurement of the same work in process, one query at a time: the search bench's
//     in-process baseline, in a process that holds nothing but the read model, as the service's;
//   - any other GET: its CPU time and the POSTs answered so far.
import http from "node:http";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { CollectionChangedSchema, ProductCreatedSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import {
  type SearchProductsRequest,
  SearchProductsRequestSchema,
  SearchProductsResponseSchema,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createLogger } from "@shop/platform";
import {
  type CatalogEvent,
  CatalogProjection,
  createCatalogReadModel,
  createEmbeddedBackend,
} from "@shop/search/internal";
import { measure } from "./harness.js";
import { generateCatalog, generateQueries } from "./search-catalog.js";

const products = Number(process.argv[2]);
const queryCount = Number(process.argv[3] ?? 2_000);
const mode = process.argv[4];
const collect = globalThis.gc;
if (!collect || !Number.isInteger(products) || products < 1) {
  console.error("usage: node --expose-gc --import tsx bench/search-scale-worker.ts <products> [queries] [serve]");
  process.exit(2);
}

/** Live heap after full collections: JavaScript objects plus the typed arrays' backing stores. */
function heapBytes(): number {
  collect?.();
  collect?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const schemas = [CollectionChangedSchema, StockChangedSchema, ProductCreatedSchema] as const;

/** The events encoded into one buffer (kind, length, bytes), so the generated objects are gone before measuring. */
function encodedEvents(): { wire: Uint8Array; queries: SearchProductsRequest[] } {
  const catalog = generateCatalog(products);
  const queries = generateQueries(catalog, 1_000).map((init) => create(SearchProductsRequestSchema, init));
  const parts: Uint8Array[] = [];
  let size = 0;
  const add = (kind: number, bytes: Uint8Array) => {
    const head = new Uint8Array(5);
    head[0] = kind;
    new DataView(head.buffer).setUint32(1, bytes.length);
    parts.push(head, bytes);
    size += head.length + bytes.length;
  };
  for (const event of catalog.collections) add(0, toBinary(CollectionChangedSchema, event));
  for (const event of catalog.stock) add(1, toBinary(StockChangedSchema, event));
  for (const event of catalog.products) add(2, toBinary(ProductCreatedSchema, event));
  const wire = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    wire.set(part, at);
    at += part.length;
  }
  return { wire, queries };
}

const { wire, queries } = encodedEvents();
const before = heapBytes();
let started = performance.now();
const projection = new CatalogProjection();
const view = new DataView(wire.buffer);
for (let at = 0; at < wire.length; ) {
  const schema = schemas[wire[at] as number] as (typeof schemas)[number];
  const length = view.getUint32(at + 1);
  projection.apply(fromBinary(schema, wire.subarray(at + 5, at + 5 + length)) as CatalogEvent);
  at += 5 + length;
}
projection.trimToSize();
const projectionMs = performance.now() - started;
const afterProjection = heapBytes();

const readModel = createCatalogReadModel({ backend: createEmbeddedBackend(), logger: createLogger("scale", "silent") });
started = performance.now();
await readModel.rebuild({ replay: async () => ({}) }, undefined, { projection, positions: {} });
const indexMs = performance.now() - started;
const afterIndex = heapBytes();

const ask = async (i: number) =>
  toBinary(
    SearchProductsResponseSchema,
    await readModel.search(queries[i % queries.length] as SearchProductsRequest, "bytes"),
  );
if (mode === "serve") {
  let calls = 0;
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/measure") {
      measure({ label: "embedded, in a process of its own", op: (_, i) => ask(i), concurrency: 1 }).then(
        (result) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result)),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    if (req.method !== "POST") {
      const cpu = process.cpuUsage();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...cpu, calls }));
      return;
    }
    calls++;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const request = fromBinary(SearchProductsRequestSchema, Buffer.concat(chunks));
      const body = toBinary(SearchProductsResponseSchema, await readModel.search(request, "bytes"));
      res.writeHead(200, { "content-type": "application/proto", "content-length": body.byteLength }).end(body);
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
  });
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
  await new Promise<never>(() => {});
}
for (let i = 0; i < Math.min(500, queryCount); i++) await ask(i);
const latencies = new Float64Array(queryCount);
started = performance.now();
for (let i = 0; i < queryCount; i++) {
  const t = performance.now();
  await ask(i);
  latencies[i] = performance.now() - t;
}
const elapsed = performance.now() - started;
// SHOP_BENCH_SCALE_SLOWEST=<n> lists the n slowest queries on stderr: where the tail comes from.
const slowest = Number(process.env.SHOP_BENCH_SCALE_SLOWEST ?? 0);
if (slowest > 0) {
  const order = Array.from(latencies.keys()).sort((a, b) => (latencies[b] as number) - (latencies[a] as number));
  for (const i of order.slice(0, slowest)) {
    const query = toJson(SearchProductsRequestSchema, queries[i % queries.length] as SearchProductsRequest);
    console.error(`${(latencies[i] as number).toFixed(1)} ms ${JSON.stringify(query)}`);
  }
}
latencies.sort();
const quantile = (q: number) => latencies[Math.min(queryCount - 1, Math.floor(q * queryCount))] as number;

const mb = (bytes: number) => Number((bytes / 1e6).toFixed(1));
console.log(
  JSON.stringify({
    products,
    // Also keeps the events alive to the end, so the heap figures never count their release as a saving.
    eventsMB: mb(wire.length),
    skus: (await readModel.stats()).skus,
    projectionMs: Math.round(projectionMs),
    indexMs: Math.round(indexMs),
    projectionMB: mb(afterProjection - before),
    indexMB: mb(afterIndex - afterProjection),
    heapMB: mb(afterIndex - before),
    qps: Math.round((queryCount / elapsed) * 1000),
    p50Ms: Number(quantile(0.5).toFixed(3)),
    p99Ms: Number(quantile(0.99).toFixed(3)),
  }),
);
process.exit(0);
