// A storefront's first call: search the catalog with a filter and show remaining stock.
// Run against a started platform: `npx tsx examples/search-catalog.ts "red mug"`.
import { SortOrder } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { createShopClient, formatMoney } from "@shop/sdk";

const shop = createShopClient({ baseUrl: process.env.SHOP_ENDPOINT ?? "http://127.0.0.1:8080" });

const result = await shop.search.searchProducts({
  query: process.argv[2] ?? "",
  filter: { inStockOnly: true },
  sort: SortOrder.RELEVANCE,
  facets: ["tags", "collections"],
  pageSize: 10,
});
for (const hit of result.hits) {
  const product = hit.product;
  console.log(`${product?.title}  ${formatMoney(product?.price)}  ${product?.available} left`);
}
