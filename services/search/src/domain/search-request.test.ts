import { create } from "@bufbuild/protobuf";
import { SearchProductsRequestSchema, SortOrder } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { describe, expect, it } from "vitest";
import { encodePageToken, prepareSearch } from "./search-request.js";

const request = (init: Parameters<typeof create<typeof SearchProductsRequestSchema>>[1]) =>
  create(SearchProductsRequestSchema, init);

describe("preparing a search", () => {
  it("sorts by relevance with text and by newest without", () => {
    expect(prepareSearch(request({ query: "red mug" })).query.sort).toBe("relevance");
    expect(prepareSearch(request({ query: "  " })).query.sort).toBe("newest");
    expect(prepareSearch(request({ sort: SortOrder.RELEVANCE })).query.sort).toBe("newest");
    expect(prepareSearch(request({ query: "mug", sort: SortOrder.TITLE })).query.sort).toBe("title");
  });

  it("resolves collection handles and defaults the page size", () => {
    const { query } = prepareSearch(request({ filter: { collectionIds: ["kitchen"] } }), (h) =>
      h === "kitchen" ? "c-1" : h,
    );
    expect(query.filter.collectionIds).toEqual(["c-1"]);
    expect(query.pageSize).toBe(20);
  });

  it("refuses price bounds without a currency or the wrong way round", () => {
    expect(() => prepareSearch(request({ filter: { maxPriceMinor: 100n } }))).toThrow(/currency_code/);
    expect(() =>
      prepareSearch(request({ filter: { currencyCode: "EUR", minPriceMinor: 5n, maxPriceMinor: 4n } })),
    ).toThrow(/min_price_minor/);
  });

  it("decodes the cursor of its own page token and refuses another search's", () => {
    const first = prepareSearch(request({ query: "mug", sort: SortOrder.PRICE_ASC }));
    const token = encodePageToken({ value: 1250, id: "p7" }, first.fingerprint);
    const next = prepareSearch(request({ query: "mug", sort: SortOrder.PRICE_ASC, pageToken: token, pageSize: 5 }));
    expect(next.query.after).toEqual({ value: 1250, id: "p7" });
    expect(() => prepareSearch(request({ query: "cup", sort: SortOrder.PRICE_ASC, pageToken: token }))).toThrow(
      /page_token/,
    );
  });
});
