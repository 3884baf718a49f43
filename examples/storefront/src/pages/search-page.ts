import type { SearchProductsResponse } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { SortOrder } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { formatMoney, parseMoney } from "@shop/sdk";
import { h, notice } from "../dom.js";
import type { Storefront } from "../storefront.js";
import { productCard } from "./product-card.js";

/** The sort orders offered, by the name they have in the address. */
const sorts: Array<[string, SortOrder, string]> = [
  ["relevance", SortOrder.RELEVANCE, "Best match"],
  ["price-asc", SortOrder.PRICE_ASC, "Price: low to high"],
  ["price-desc", SortOrder.PRICE_DESC, "Price: high to low"],
  ["newest", SortOrder.NEWEST, "Newest"],
  ["title", SortOrder.TITLE, "Name"],
];
const pageSize = 12;

/** "12.50" from 1250 minor units of the currency. */
const decimal = (amountMinor: bigint, currencyCode: string) =>
  formatMoney({ currencyCode, amountMinor }).split(" ")[0] as string;

/** The search page: text, filters, sort and facets all live in the address (`#/?q=mug&tag=kitchen`), so it can be shared. */
export async function searchPage(sf: Storefront, params: URLSearchParams): Promise<HTMLElement> {
  const currency = sf.settings.currency;
  const query = params.get("q") ?? "";
  const sortName = params.get("sort") ?? "relevance";
  const tags = params.getAll("tag");
  const collections = params.getAll("collection");
  const inStockOnly = params.get("in_stock") === "1";
  const min = params.get("min") ?? "";
  const max = params.get("max") ?? "";

  const go = (next: URLSearchParams) => {
    location.hash = `#/?${next}`;
  };
  const withParam = (name: string, value: string, on: boolean) => {
    const next = new URLSearchParams(params);
    const values = next.getAll(name).filter((v) => v !== value);
    next.delete(name);
    for (const v of on ? [...values, value] : values) next.append(name, v);
    return next;
  };

  let minPriceMinor: bigint | undefined;
  let maxPriceMinor: bigint | undefined;
  const problems: string[] = [];
  try {
    if (min !== "") minPriceMinor = parseMoney(min, currency).amountMinor;
    if (max !== "") maxPriceMinor = parseMoney(max, currency).amountMinor;
  } catch (err) {
    problems.push((err as Error).message);
  }

  const request = {
    query,
    filter: {
      inStockOnly,
      tags,
      collectionIds: collections,
      minPriceMinor,
      maxPriceMinor,
      currencyCode: minPriceMinor !== undefined || maxPriceMinor !== undefined ? currency : "",
    },
    sort: sorts.find(([name]) => name === sortName)?.[1] ?? SortOrder.RELEVANCE,
    facets: ["tags", "collections", "price"],
    pageSize,
  };
  const [result, collectionList] = await Promise.all([
    problems.length > 0 ? undefined : sf.shop.search.searchProducts(request, { signal: sf.signal }),
    sf.shop.search.listCollections({ pageSize: 200 }, { signal: sf.signal }),
  ]);
  const collectionTitle = new Map(
    collectionList.collections.flatMap((c) => [
      [c.id, c.title],
      [c.handle, c.title],
    ]),
  );

  const filters = h(
    "form",
    {
      class: "filters",
      "aria-label": "Search filters",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const form = new FormData(event.target as HTMLFormElement);
        const next = new URLSearchParams();
        form.forEach((value, name) => {
          if (value !== "") next.append(name, String(value));
        });
        go(next);
      },
    },
    h("label", {}, "Search", h("input", { type: "search", name: "q", value: query })),
    h(
      "label",
      {},
      "Sort by",
      h(
        "select",
        { name: "sort", onchange: (e: Event) => (e.target as HTMLSelectElement).form?.requestSubmit() },
        ...sorts.map(([name, , label]) => h("option", { value: name, selected: name === sortName }, label)),
      ),
    ),
    h(
      "label",
      { class: "inline" },
      h("input", {
        type: "checkbox",
        name: "in_stock",
        value: "1",
        checked: inStockOnly,
        onchange: (e: Event) => (e.target as HTMLInputElement).form?.requestSubmit(),
      }),
      "In stock only",
    ),
    h(
      "fieldset",
      { class: "price-range" },
      h("legend", {}, `Price (${currency})`),
      h("input", { name: "min", inputmode: "decimal", placeholder: "min", value: min, "aria-label": "Minimum price" }),
      h("input", { name: "max", inputmode: "decimal", placeholder: "max", value: max, "aria-label": "Maximum price" }),
    ),
    // Facet choices travel with the form too.
    ...tags.map((tag) => h("input", { type: "hidden", name: "tag", value: tag })),
    ...collections.map((id) => h("input", { type: "hidden", name: "collection", value: id })),
    h("button", { type: "submit" }, "Search"),
  );

  const facetList = (name: string, title: string, param: string, label: (value: string) => string) => {
    const facet = result?.facets.find((f) => f.name === name);
    const chosen = params.getAll(param);
    const values = (facet?.values ?? []).filter((v) => v.count > 0n || chosen.includes(v.value));
    if (values.length === 0) return null;
    return h(
      "fieldset",
      { class: "facet", "data-facet": name },
      h("legend", {}, title),
      ...values.map((v) =>
        h(
          "label",
          { class: "inline" },
          h("input", {
            type: "checkbox",
            checked: chosen.includes(v.value),
            "data-value": v.value,
            onchange: (e: Event) => go(withParam(param, v.value, (e.target as HTMLInputElement).checked)),
          }),
          `${label(v.value)} `,
          h("span", { class: "count" }, `(${v.count})`),
        ),
      ),
    );
  };

  const priceFacet = () => {
    const facet = result?.facets.find((f) => f.name === "price");
    const values = (facet?.values ?? []).filter((v) => v.count > 0n);
    if (values.length === 0) return null;
    return h(
      "fieldset",
      { class: "facet", "data-facet": "price" },
      h("legend", {}, "Price band"),
      ...values.map((v) => {
        const [from = "", to = ""] = v.value.split("-");
        const low = from === "" || from === "0" ? "" : decimal(BigInt(from), currency);
        const high = to === "" ? "" : decimal(BigInt(to) - 1n, currency);
        const text = high === "" ? `${low} and up` : low === "" ? `up to ${high}` : `${low} – ${high}`;
        const next = new URLSearchParams(params);
        next.delete("min");
        next.delete("max");
        if (low !== "") next.set("min", low);
        if (high !== "") next.set("max", high);
        return h(
          "a",
          { class: "facet-link", href: `#/?${next}` },
          `${text} `,
          h("span", { class: "count" }, `(${v.count})`),
        );
      }),
    );
  };

  const results = h("section", { class: "results", "aria-label": "Results" });
  if (problems.length > 0) results.append(notice("error", ...problems));
  if (result !== undefined) renderResults(sf, results, result, request);

  return h(
    "div",
    { class: "search-page" },
    h(
      "aside",
      { class: "sidebar" },
      filters,
      facetList("tags", "Tags", "tag", (v) => v),
      facetList("collections", "Collections", "collection", (v) => collectionTitle.get(v) ?? v),
      priceFacet(),
    ),
    results,
  );
}

function renderResults(
  sf: Storefront,
  into: HTMLElement,
  first: SearchProductsResponse,
  request: Parameters<Storefront["shop"]["search"]["searchProducts"]>[0],
): void {
  const grid = h("div", { class: "product-grid" });
  const summary = h(
    "p",
    { class: "result-count" },
    first.totalSize === 1n ? "1 product" : `${first.totalSize} products`,
  );
  into.append(summary);
  if (first.hits.length === 0) {
    into.append(notice("info", "Nothing matches. Try fewer words or filters."));
    return;
  }
  const show = (page: SearchProductsResponse) => {
    for (const hit of page.hits) if (hit.product) grid.append(productCard(hit.product));
  };
  show(first);
  into.append(grid);
  let token = first.nextPageToken;
  if (token !== "") {
    const more: HTMLButtonElement = h("button", {
      type: "button",
      class: "more",
      onclick: async () => {
        more.disabled = true;
        const page = await sf.shop.search.searchProducts({ ...request, pageToken: token }, { signal: sf.signal });
        show(page);
        token = page.nextPageToken;
        if (token === "") more.remove();
        else more.disabled = false;
      },
    });
    more.textContent = "More results";
    into.append(more);
  }
}
