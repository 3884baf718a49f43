import { formatMoney } from "@shop/sdk";
import { maxLineQuantity } from "../cart-store.js";
import { h } from "../dom.js";
import type { Storefront } from "../storefront.js";

/** The cart: change quantities, remove lines, go to checkout. */
export async function cartPage(sf: Storefront): Promise<HTMLElement> {
  const lines = sf.cart.lines();
  if (lines.length === 0) {
    return h(
      "div",
      { class: "cart-page" },
      h("h1", {}, "Your cart"),
      h("p", { class: "empty-cart" }, "Your cart is empty. ", h("a", { href: "#/" }, "Find something you like")),
    );
  }
  return h(
    "div",
    { class: "cart-page" },
    h("h1", {}, "Your cart"),
    cartTable(sf, true),
    h("p", { class: "subtotal" }, "Subtotal: ", h("strong", {}, sf.cart.subtotal())),
    h("p", {}, h("a", { href: "#/checkout", class: "button primary", id: "to-checkout" }, "Check out")),
  );
}

/** The cart's lines as a table; editable on the cart page, read-only in the checkout summary. */
export function cartTable(sf: Storefront, editable: boolean, flags: Map<string, string> = new Map()): HTMLElement {
  return h(
    "table",
    { class: "cart-lines" },
    h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", {}, "Price"), h("th", {}, "Qty"), h("th", {}, "Total"))),
    h(
      "tbody",
      {},
      ...sf.cart.lines().map((line) => {
        const unit = { currencyCode: line.currencyCode, amountMinor: BigInt(line.priceMinor) };
        const total = { ...unit, amountMinor: unit.amountMinor * BigInt(line.quantity) };
        const flag = flags.get(line.sku);
        return h(
          "tr",
          { "data-sku": line.sku, class: flag ? "flagged" : undefined },
          h(
            "td",
            {},
            h("a", { href: `#/product/${encodeURIComponent(line.productId)}` }, line.title),
            flag ? h("div", { class: "line-flag" }, flag) : null,
          ),
          h("td", {}, formatMoney(unit)),
          h(
            "td",
            {},
            editable
              ? h("input", {
                  type: "number",
                  min: 0,
                  max: maxLineQuantity,
                  value: line.quantity,
                  "aria-label": `Quantity of ${line.title}`,
                  onchange: (e: Event) => {
                    sf.cart.setQuantity(line.sku, Number((e.target as HTMLInputElement).value));
                    sf.refresh();
                  },
                })
              : String(line.quantity),
          ),
          h("td", {}, formatMoney(total)),
          editable
            ? h(
                "td",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "link",
                    onclick: () => {
                      sf.cart.remove(line.sku);
                      sf.refresh();
                    },
                  },
                  "Remove",
                ),
              )
            : null,
        );
      }),
    ),
  );
}
