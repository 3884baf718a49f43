import type { CatalogProduct } from "@shop/contracts/shop/search/v1/search_pb.js";
import { formatMoney } from "@shop/sdk";
import { h } from "../dom.js";

/** "3 left" / "Sold out": remaining stock as shoppers read it. */
export function stockText(available: bigint): string {
  if (available <= 0n) return "Sold out";
  return available === 1n ? "1 left" : `${available} left`;
}

/** A neutral box where a product has no picture (or its picture does not load). */
export function placeholder(size: "" | "large"): HTMLElement {
  return h("div", { class: `placeholder ${size}`.trim(), "aria-hidden": "true" });
}

/** A product picture that gives way to the placeholder when it cannot be loaded. */
export function productImage(src: string, size: "" | "large"): HTMLElement {
  return h("img", {
    src,
    alt: "",
    loading: "lazy",
    class: size === "large" ? "product-image" : undefined,
    onerror: (event: Event) => (event.target as HTMLElement).replaceWith(placeholder(size)),
  });
}

/** One search hit, linking to its product page. */
export function productCard(product: CatalogProduct): HTMLElement {
  const image = product.imageUrls[0];
  return h(
    "article",
    { class: "product-card", "data-product-id": product.id },
    h(
      "a",
      { href: `#/product/${encodeURIComponent(product.id)}` },
      image ? productImage(image, "") : placeholder(""),
      h("h3", {}, product.title),
    ),
    h("p", { class: "price" }, formatMoney(product.price)),
    h("p", { class: product.available > 0n ? "stock" : "stock sold-out" }, stockText(product.available)),
  );
}
