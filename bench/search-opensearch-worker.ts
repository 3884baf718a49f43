// The search bench's in-process rows of the OpenSearch backend, in a process of their own, as the embedded engine's
// baseline runs (bench/search-scale-worker.ts), rather than in the bench process, which holds every event and the other
// baselines. A search replica on the bench's alias (configured from the environment, as main.ts is; the bench's own
// instance holds the writer lease, so this one only reads) runs the query mix in process one at a time, then 4 at once,
// and prints both Measurements as one JSON line:
// `node --import tsx bench/search-opensearch-worker.ts <queries.json>`.
import { readFileSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { SearchProductsRequestSchema } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createLogger, createPlatform, loadConfigOrExit } from "@shop/platform";
import { createSearch, loadSearchConfig } from "@shop/search";
import { measure } from "./harness.js";

const [queriesFile] = process.argv.slice(2) as [string];
const queries = (JSON.parse(readFileSync(queriesFile, "utf8")) as JsonValue[]).map((json) =>
  fromJson(SearchProductsRequestSchema, json),
);
const config = loadConfigOrExit("search", loadSearchConfig);
const platform = await createPlatform("search", config, {
  logger: createLogger("search-opensearch-worker", process.env.SHOP_LOG_LEVEL ?? "warn"),
});
const search = await createSearch(platform, config);
try {
  await search.ready;
  const op = (_: unknown, i: number) =>
    search.readModel.search(queries[i % queries.length] as (typeof queries)[number]);
  const label = "OpenSearch backend, in a process of its own";
  // A fresh process runs the client's code cold: three seconds of warm-up rather than the harness's one.
  const one = await measure({ label, op, concurrency: 1, warmupMs: 3_000 });
  const four = await measure({ label: `${label}, 4 at once`, op, concurrency: 4 });
  process.stdout.write(`${JSON.stringify({ one, four })}\n`);
} finally {
  await search.stop();
}
