import { create } from "@bufbuild/protobuf";
import {
  type SearchProductsRequest,
  SearchProductsRequestSchema,
  type SearchProductsResponse,
  SearchProductsResponseSchema,
  SortOrder,
} from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { formatMoney, parseMoney } from "@shop/sdk";
import type { Command } from "commander";
import { createCliContext } from "./cli-context.js";
import { UsageError } from "./cli-errors.js";
import { formatTable, messageJson, printJson } from "./output.js";
import { createProgress } from "./progress.js";

/** Options of `shop search`, as commander parses them. */
export interface SearchOptions {
  collection: string[];
  tag: string[];
  attr: string[];
  minPrice?: string;
  maxPrice?: string;
  currency?: string;
  sort?: string;
  inStock?: boolean;
  facet: string[];
  pageSize?: string;
  pageToken?: string;
  json?: boolean;
}

const sorts: Record<string, SortOrder> = {
  relevance: SortOrder.RELEVANCE,
  "price-asc": SortOrder.PRICE_ASC,
  "price-desc": SortOrder.PRICE_DESC,
  newest: SortOrder.NEWEST,
  title: SortOrder.TITLE,
};

const collect = (value: string, previous: string[]) => [...previous, value];

/** The request a command line asks for; usage mistakes are reported before anything is sent. */
export function searchRequestOf(words: string[], options: SearchOptions): SearchProductsRequest {
  const sort = options.sort === undefined ? SortOrder.UNSPECIFIED : sorts[options.sort];
  if (sort === undefined) throw new UsageError(`--sort ${options.sort}: use one of ${Object.keys(sorts).join(", ")}`);
  const priced = options.minPrice !== undefined || options.maxPrice !== undefined;
  if (priced && !options.currency) {
    throw new UsageError("--min-price and --max-price need --currency (e.g. --currency EUR)");
  }
  const minor = (flag: string, amount: string | undefined) => {
    if (amount === undefined) return undefined;
    try {
      return parseMoney(amount, options.currency as string).amountMinor;
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`);
    }
  };
  const attributes = new Map<string, string[]>();
  for (const pair of options.attr) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`--attr ${pair}: write it as key=value, e.g. --attr color=red`);
    const key = pair.slice(0, at);
    attributes.set(key, [...(attributes.get(key) ?? []), pair.slice(at + 1)]);
  }
  const pageSize = options.pageSize === undefined ? 0 : Number(options.pageSize);
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 100) {
    throw new UsageError(`--page-size ${options.pageSize}: use a whole number from 1 to 100`);
  }
  return create(SearchProductsRequestSchema, {
    query: words.join(" "),
    filter: {
      minPriceMinor: minor("--min-price", options.minPrice),
      maxPriceMinor: minor("--max-price", options.maxPrice),
      currencyCode: options.currency?.toUpperCase() ?? "",
      collectionIds: options.collection,
      tags: options.tag,
      attributes: [...attributes].map(([key, values]) => ({ key, values })),
      inStockOnly: options.inStock ?? false,
    },
    sort,
    facets: options.facet,
    pageSize,
    pageToken: options.pageToken ?? "",
  });
}

function printResults(response: SearchProductsResponse): void {
  if (response.hits.length === 0) process.stderr.write("nothing found\n");
  else
    process.stdout.write(
      formatTable(response.hits, [
        { header: "ID", value: (hit) => hit.product?.id ?? "" },
        { header: "TITLE", value: (hit) => hit.product?.title ?? "" },
        { header: "PRICE", value: (hit) => formatMoney(hit.product?.price), align: "right" },
        { header: "STOCK", value: (hit) => String(hit.product?.available ?? 0n), align: "right" },
      ]),
    );
  for (const facet of response.facets) {
    const values = facet.values.map((v) => `${v.value} (${v.count})`).join(", ");
    process.stdout.write(`${facet.name}: ${values || "-"}\n`);
  }
  process.stderr.write(`${response.hits.length} of ${response.totalSize} products\n`);
  if (response.nextPageToken) process.stderr.write(`next page: --page-token ${response.nextPageToken}\n`);
}

/** `shop search [words…]` for customers' view of the catalog, and `shop search reindex` for operators. */
export function registerSearch(program: Command): void {
  const search = program
    .command("search")
    .description("search the catalog as customers do: text, filters, sort, facets and remaining stock")
    .argument("[words...]", "free text; typos and prefixes are tolerated")
    .option("--collection <idOrHandle>", "in this collection (repeat for any of several)", collect, [])
    .option("--tag <tag>", "with this tag (repeat: all of them)", collect, [])
    .option("--attr <key=value>", "attribute value (repeat a key for any of its values)", collect, [])
    .option("--min-price <amount>", "lowest price, e.g. 5 or 4.99 (needs --currency)")
    .option("--max-price <amount>", "highest price, e.g. 20 (needs --currency)")
    .option("--currency <code>", "currency of the price bounds, e.g. EUR")
    .option("--sort <order>", `one of ${Object.keys(sorts).join(", ")} (default: relevance with text, else newest)`)
    .option("--in-stock", "only products with stock left")
    .option("--facet <name>", "count values: tags, collections, price or attributes.<key> (repeatable)", collect, [])
    .option("--page-size <n>", "hits per page, up to 100 (default 20)")
    .option("--page-token <token>", "continue where the previous page ended")
    .option("--json", "print the response as JSON")
    .action(async (words: string[], options: SearchOptions) => {
      const request = searchRequestOf(words, options);
      const { client } = await createCliContext();
      const response = await client.search.searchProducts(request);
      if (options.json) printJson(messageJson(SearchProductsResponseSchema, response));
      else printResults(response);
    });

  search
    .command("reindex")
    .description("rebuild the search index from the event streams and swap it in (operators); searches keep working")
    .option("--json", "print the final progress as JSON")
    .action(async (options: { json?: boolean }) => {
      const { client } = await createCliContext();
      let progress: ReturnType<typeof createProgress> | undefined;
      let last: { applied: bigint; version: string } | undefined;
      for await (const step of client.search.reindex({})) {
        progress ??= createProgress("reindex", Number(step.eventsTotal) || undefined);
        progress.update(Number(step.eventsApplied), step.indexVersion);
        last = { applied: step.eventsApplied, version: step.indexVersion };
        if (step.done && options.json) {
          progress.finish();
          printJson({ indexVersion: step.indexVersion, eventsApplied: String(step.eventsApplied), done: true });
          return;
        }
      }
      progress?.finish(last ? `index ${last.version} is live; ${last.applied} events replayed` : "reindex ended");
    });
}
