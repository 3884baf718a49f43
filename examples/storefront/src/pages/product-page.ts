import { Code, ConnectError, formatMoney } from "@shop/sdk";
import { maxLineQuantity } from "../cart-store.js";
import { h, notice } from "../dom.js";
import type { Storefront } from "../storefront.js";
import { placeholder, productImage, stockText } from "./product-card.js";

/** A product with its remaining stock per variant, and "Add to cart". */
export async function productPage(sf: Storefront, id: string): Promise<HTMLElement> {
  let product: Awaited<ReturnType<Storefront["shop"]["search"]["getProduct"]>>;
  try {
    product = await sf.shop.search.getProduct({ id }, { signal: sf.signal });
  } catch (err) {
    if (ConnectError.from(err).code !== Code.NotFound) throw err;
    return h(
      "div",
      { class: "product-page" },
      notice("info", "This product is no longer in the catalog. ", h("a", { href: "#/" }, "Back to the search")),
    );
  }
  const variants = product.variants.length > 0 ? product.variants : [];
  let chosen = variants.find((v) => v.available > 0n) ?? variants[0];
  const stock = h("p", { class: "stock", id: "stock" });
  const price = h("p", { class: "price" });
  const quantity = h("input", { type: "number", name: "quantity", min: 1, value: 1, "aria-label": "Quantity" });
  const add = h("button", { type: "submit", class: "primary" }, "Add to cart");
  const message = h("div", { class: "message" });
  const showVariant = () => {
    const available = chosen?.available ?? product.available;
    stock.textContent = stockText(available);
    stock.className = available > 0n ? "stock" : "stock sold-out";
    stock.dataset.available = String(available);
    price.textContent = formatMoney(chosen?.price ?? product.price);
    quantity.max = String(Math.min(Number(available), maxLineQuantity));
    add.disabled = available <= 0n;
  };
  showVariant();

  const form = h(
    "form",
    {
      class: "add-to-cart",
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (chosen === undefined) return;
        const wanted = Number(quantity.value);
        const inCart = sf.cart.lines().find((line) => line.sku === chosen?.sku)?.quantity ?? 0;
        if (!Number.isInteger(wanted) || wanted < 1) {
          message.replaceChildren(notice("error", "Choose a quantity of at least 1."));
          return;
        }
        if (BigInt(wanted + inCart) > chosen.available) {
          message.replaceChildren(
            notice("error", `Only ${chosen.available} left${inCart > 0 ? `, and ${inCart} are in your cart` : ""}.`),
          );
          return;
        }
        const unit = chosen.price ?? product.price;
        sf.cart.add(
          {
            productId: product.id,
            sku: chosen.sku,
            title: variants.length > 1 && chosen.title ? `${product.title} (${chosen.title})` : product.title,
            priceMinor: String(unit?.amountMinor ?? 0n),
            currencyCode: unit?.currencyCode ?? "",
          },
          wanted,
        );
        message.replaceChildren(
          notice("success", "Added to your cart. ", h("a", { href: "#/cart", class: "go-to-cart" }, "View cart")),
        );
      },
    },
    variants.length > 1
      ? h(
          "label",
          {},
          "Variant",
          h(
            "select",
            {
              name: "sku",
              onchange: (e: Event) => {
                chosen = variants.find((v) => v.sku === (e.target as HTMLSelectElement).value);
                showVariant();
              },
            },
            ...variants.map((v) =>
              h("option", { value: v.sku, selected: v === chosen }, `${v.title || v.sku} — ${stockText(v.available)}`),
            ),
          ),
        )
      : null,
    h("label", {}, "Quantity", quantity),
    add,
  );

  const image = product.imageUrls[0];
  return h(
    "div",
    { class: "product-page", "data-product-id": product.id },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Search")),
    h(
      "div",
      { class: "product-layout" },
      image ? productImage(image, "large") : placeholder("large"),
      h(
        "div",
        {},
        h("h1", {}, product.title),
        price,
        stock,
        h("p", { class: "description" }, product.description),
        product.tags.length > 0
          ? h(
              "p",
              { class: "tags" },
              ...product.tags.map((tag) => h("a", { href: `#/?tag=${encodeURIComponent(tag)}`, class: "tag" }, tag)),
            )
          : null,
        form,
        message,
      ),
    ),
  );
}
