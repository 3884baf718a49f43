import { createCartStore } from "./cart-store.js";
import { h, notice } from "./dom.js";
import { cartPage } from "./pages/cart-page.js";
import { checkoutPage } from "./pages/checkout-page.js";
import { orderPage } from "./pages/order-page.js";
import { productPage } from "./pages/product-page.js";
import { searchPage } from "./pages/search-page.js";
import { describeError, shopClient } from "./shop-connection.js";
import type { Storefront } from "./storefront.js";
import { loadSettings, type Protocol, saveProtocol } from "./storefront-settings.js";

const storage = window.localStorage;
const opened = new URL(location.href);
const settings = loadSettings(opened, storage);
// The settings and the payment page's answer are read once; the address keeps only the page.
let arrival: URLSearchParams = opened.searchParams;
if (opened.search !== "") history.replaceState(null, "", `${opened.pathname}${opened.hash}`);

const shop = shopClient(settings);
const cart = createCartStore(storage);
const app = document.getElementById("app") as HTMLElement;
const cartCount = document.getElementById("cart-count") as HTMLElement;
const showCount = () => {
  cartCount.textContent = String(cart.count());
};
cart.onChange(showCount);
showCount();
// Another tab changed the cart.
window.addEventListener("storage", showCount);

const quickSearch = document.getElementById("quick-search") as HTMLFormElement;
quickSearch.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = String(new FormData(quickSearch).get("q") ?? "");
  location.hash = `#/?${new URLSearchParams(q === "" ? {} : { q })}`;
});

const footer = document.getElementById("connection") as HTMLElement;
footer.append(
  `Gateway ${settings.gatewayUrl} · `,
  h(
    "label",
    {},
    "protocol ",
    h(
      "select",
      {
        id: "protocol",
        onchange: (e: Event) => {
          saveProtocol(storage, (e.target as HTMLSelectElement).value as Protocol);
          location.reload();
        },
      },
      h("option", { value: "connect", selected: settings.protocol === "connect" }, "Connect"),
      h("option", { value: "grpc-web", selected: settings.protocol === "grpc-web" }, "gRPC-web"),
    ),
  ),
);
document.body.dataset.protocol = settings.protocol;

let leaving: AbortController | undefined;

/** Renders the page the address names: `#/` search, `#/product/<id>`, `#/cart`, `#/checkout`, `#/order/<id>`. */
async function route(): Promise<void> {
  leaving?.abort();
  const current = new AbortController();
  leaving = current;
  const hash = location.hash;
  const [path = "/", query = ""] = hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const sf: Storefront = {
    settings,
    shop,
    cart,
    storage,
    signal: current.signal,
    arrival,
    refresh: () => void route(),
  };
  arrival = new URLSearchParams();
  const [, page = "", id = ""] = path.split("/").map(decodeURIComponent);
  app.setAttribute("aria-busy", "true");
  app.dataset.page = page || "search";
  try {
    const view =
      page === "product"
        ? await productPage(sf, id)
        : page === "cart"
          ? await cartPage(sf)
          : page === "checkout"
            ? await checkoutPage(sf)
            : page === "order"
              ? await orderPage(sf, id)
              : await searchPage(sf, params);
    if (current.signal.aborted) return;
    app.replaceChildren(view);
  } catch (err) {
    if (current.signal.aborted) return;
    app.replaceChildren(notice("error", describeError(err, settings)));
  }
  // The address this render answered: the hash changes before its hashchange event runs, so "not busy" alone may
  // still describe the previous page.
  app.dataset.renderedHash = hash;
  app.setAttribute("aria-busy", "false");
  window.scrollTo(0, 0);
}

window.addEventListener("hashchange", () => void route());
void route();
