import { SortOrder } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { describe, expect, it } from "vitest";
import { type SearchOptions, searchRequestOf } from "./search.js";

const options = (extra: Partial<SearchOptions> = {}): SearchOptions => ({
  collection: [],
  tag: [],
  attr: [],
  facet: [],
  ...extra,
});

describe("shop search options", () => {
  it("turns words, filters and sort into a request, prices in minor units of the currency", () => {
    const request = searchRequestOf(
      ["red", "mug"],
      options({
        collection: ["kitchen"],
        maxPrice: "20",
        minPrice: "4.5",
        currency: "eur",
        sort: "price-asc",
        inStock: true,
        attr: ["color=red", "color=blue", "size=l"],
        facet: ["tags"],
      }),
    );
    expect(request.query).toBe("red mug");
    expect(request.sort).toBe(SortOrder.PRICE_ASC);
    expect(request.filter?.maxPriceMinor).toBe(2000n);
    expect(request.filter?.minPriceMinor).toBe(450n);
    expect(request.filter?.currencyCode).toBe("EUR");
    expect(request.filter?.collectionIds).toEqual(["kitchen"]);
    expect(request.filter?.inStockOnly).toBe(true);
    expect(request.filter?.attributes.map((a) => [a.key, a.values])).toEqual([
      ["color", ["red", "blue"]],
      ["size", ["l"]],
    ]);
    expect(request.facets).toEqual(["tags"]);
  });

  it("reports usage mistakes before sending anything", () => {
    expect(() => searchRequestOf([], options({ maxPrice: "20" }))).toThrow(/--currency/);
    expect(() => searchRequestOf([], options({ maxPrice: "20.555", currency: "EUR" }))).toThrow(/--max-price/);
    expect(() => searchRequestOf([], options({ sort: "cheapest" }))).toThrow(/--sort cheapest/);
    expect(() => searchRequestOf([], options({ attr: ["red"] }))).toThrow(/key=value/);
    expect(() => searchRequestOf([], options({ pageSize: "500" }))).toThrow(/--page-size/);
  });
});
