// The catalog's way to customers, across services: a seller creates products and stock in the products service, its
// outbox relays the events, the inventory turns seller stock into live levels, and search serves both — checked
// through the SearchService and the `shop search` CLI.
import { SearchService } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createInventory, type Inventory, loadInventoryConfig } from "@shop/inventory";
import { createLogger, createPlatform, type RunningService } from "@shop/platform";
import { clientFor, createTestKeys, type TestKeys } from "@shop/platform/testing";
import { type ProductsHarness, type RunningRelay, startProductsHarness } from "@shop/products/testing";
import { createSearch, loadSearchConfig, type Search } from "@shop/search";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShop } from "../support/run-shop.js";

let h: ProductsHarness;
let relay: RunningRelay;
let inventory: Inventory;
let searchService: Search;
let search: RunningService & { keys: TestKeys };

beforeAll(async () => {
  h = await startProductsHarness();
  relay = await h.startRelay();
  const inventoryConfig = loadInventoryConfig({ ...h.env.serviceEnv, SHOP_PORT: "0" });
  const inventoryPlatform = await createPlatform("inventory", inventoryConfig, {
    logger: createLogger("inventory", "silent"),
  });
  inventory = await createInventory(inventoryPlatform, inventoryConfig);
  await inventory.start();
  const searchConfig = loadSearchConfig({
    ...h.env.serviceEnv,
    SHOP_PORT: "0",
    SHOP_SEARCH_CONSUMER: "search-catalog-e2e",
  });
  const searchPlatform = await createPlatform("search", searchConfig, { logger: createLogger("search", "silent") });
  searchService = await createSearch(searchPlatform, searchConfig);
  search = { ...(await searchService.start()), keys: createTestKeys(searchPlatform.apiKeys) };
  await searchService.ready;
});

afterAll(async () => {
  await searchService?.stop();
  await inventory?.stop();
  await relay?.stop();
  await h?.cleanup();
});

async function eventually<T>(read: () => Promise<T>, until: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `shop …` in-process against search, as an operator, and returns what it printed. */
const shop = (...args: string[]) => runShop(search.url, search.keys.operator, args);

const product = (title: string, sku: string, amountMinor: bigint, collectionIds: string[] = []) => ({
  title,
  description: `${title}, from the e2e catalog.`,
  price: { currencyCode: "EUR", amountMinor },
  variants: [{ sku, title: "Default" }],
  tags: ["e2e"],
  collectionIds,
});

describe("a product on its way from the seller to customers' searches", () => {
  const customer = () => clientFor(SearchService, search.url);
  let kitchenId = "";
  let mugId = "";

  it("is searchable with its live stock once the seller created it", async () => {
    kitchenId = (await h.seller.createCollection({ collection: { title: "Kitchen", handle: "kitchen" } })).id;
    const mug = await h.seller.createProduct({
      product: product("Red Ceramic Mug", "E2E-MUG-1", 1250n, [kitchenId]),
      initialStock: [{ sku: "E2E-MUG-1", quantity: 7n }],
    });
    mugId = mug.id;
    await h.seller.createProduct({
      product: product("Red Ceramic Vase", "E2E-VASE-1", 4500n, [kitchenId]),
      initialStock: [{ sku: "E2E-VASE-1", quantity: 2n }],
    });
    await h.seller.createProduct({ product: product("Red Ceramic Bowl", "E2E-BOWL-1", 900n, [kitchenId]) });
    const found = await eventually(
      () => customer().searchProducts({ query: "red ceramic", filter: { inStockOnly: true } }),
      (r) => r.hits.length === 2,
    );
    expect(found.hits.map((hit) => [hit.product?.title, hit.product?.available])).toEqual(
      expect.arrayContaining([
        ["Red Ceramic Mug", 7n],
        ["Red Ceramic Vase", 2n],
      ]),
    );
  });

  it("follows the seller's stock changes", async () => {
    await h.seller.setStock({ levels: [{ sku: "E2E-MUG-1", quantity: 0n }] });
    await eventually(
      () => customer().getProduct({ id: mugId }),
      (p) => p.available === 0n,
    );
    await h.seller.setStock({ levels: [{ sku: "E2E-MUG-1", quantity: 5n }] });
    await eventually(
      () => customer().getProduct({ id: mugId }),
      (p) => p.available === 5n,
    );
  });

  it("answers `shop search` with a table and JSON, filtering by collection handle and price", async () => {
    const args = ["red", "ceramic", "--collection", "kitchen", "--max-price", "20", "--currency", "EUR"];
    const table = await shop("search", ...args, "--sort", "price-asc", "--in-stock");
    expect(table.code).toBe(0);
    expect(table.out.split("\n")[0]).toMatch(/^ID\s+TITLE\s+PRICE\s+STOCK$/);
    expect(table.out).toMatch(/Red Ceramic Mug\s+12\.50 EUR\s+5/);
    expect(table.out).not.toMatch(/Vase|Bowl/);
    const json = JSON.parse((await shop("search", ...args, "--sort", "price-asc", "--json")).out);
    expect(json.hits.map((hit: { product: { title: string } }) => hit.product.title)).toEqual([
      "Red Ceramic Bowl",
      "Red Ceramic Mug",
    ]);
    expect((await shop("search", "mug", "--max-price", "20")).code).toBe(1);
  });

  it("rebuilds with `shop search reindex` and keeps the same results", async () => {
    const before = await customer().searchProducts({ query: "ceramic" });
    const reindexed = await shop("search", "reindex");
    expect(reindexed.code).toBe(0);
    expect(reindexed.err).toMatch(/index v\S+ is live; \d+ events replayed/);
    const after = await customer().searchProducts({ query: "ceramic" });
    expect(after.hits.map((hit) => hit.product?.id)).toEqual(before.hits.map((hit) => hit.product?.id));
  });

  it("drops an archived product from the results", async () => {
    await h.seller.archiveProduct({ id: mugId });
    await eventually(
      () => customer().searchProducts({ query: "mug" }),
      (r) => r.hits.length === 0,
    );
  });
});
