import { OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { Code, ConnectError } from "@shop/sdk";
import { h, notice } from "../dom.js";
import { challengeAddress, checkoutOrderKey } from "../payment-return.js";
import { customerClient, describeError, rememberOrder } from "../shop-connection.js";
import type { Storefront } from "../storefront.js";
import { cartTable } from "./cart-page.js";

/** The Stripe emulator's test cards a shopper can pick (a real shop would collect a card with Stripe Elements). */
const testCards: Array<[string, string]> = [
  ["pm_card_visa", "Visa •••• 4242 — approved"],
  ["pm_card_mastercard", "Mastercard •••• 4444 — approved"],
  ["pm_card_threeDSecure2Required", "Visa •••• 3220 — asks for 3-D Secure"],
  ["pm_card_chargeDeclined", "Visa •••• 0002 — declined"],
  ["pm_card_chargeDeclinedInsufficientFunds", "Visa •••• 9995 — insufficient funds"],
];
const countries: Array<[string, string]> = [
  ["GB", "United Kingdom"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["NL", "Netherlands"],
  ["IE", "Ireland"],
  ["US", "United States"],
];

/**
 * Guest checkout: details and a test card, then CreateOrder as the customer. Paid → the order page; 3-D Secure → the
 * emulator's challenge page, back to the order page; refused → the reason here, with the cart kept.
 */
export async function checkoutPage(sf: Storefront): Promise<HTMLElement> {
  if (sf.cart.lines().length === 0) {
    return h(
      "div",
      { class: "checkout-page" },
      h("h1", {}, "Checkout"),
      h("p", { class: "empty-cart" }, "Your cart is empty. ", h("a", { href: "#/" }, "Find something you like")),
    );
  }
  const message = h("div", { class: "message", id: "checkout-message" });
  const summary = h("div", { class: "summary" });
  const showSummary = (flags?: Map<string, string>) =>
    summary.replaceChildren(
      h("h2", {}, "Your order"),
      cartTable(sf, false, flags),
      h("p", { class: "subtotal" }, "Total: ", h("strong", {}, sf.cart.subtotal())),
      h("p", {}, h("a", { href: "#/cart" }, "Edit cart")),
    );
  showSummary();
  const pay: HTMLButtonElement = h(
    "button",
    { type: "submit", class: "primary", id: "pay" },
    `Pay ${sf.cart.subtotal()}`,
  );
  // Kept across a retry after a lost answer, so the order is never placed (nor charged) twice; a definite answer ends it.
  let requestId: string | undefined;

  const field = (label: string, name: string, attributes: Record<string, string | boolean> = {}) =>
    h("label", {}, label, h("input", { name, required: true, ...attributes }));
  const form = h(
    "form",
    {
      class: "checkout-form",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const data = new FormData(event.target as HTMLFormElement);
        const value = (name: string) => String(data.get(name) ?? "").trim();
        pay.disabled = true;
        message.replaceChildren(notice("info", "Placing your order…"));
        requestId ??= `web-${crypto.randomUUID()}`;
        try {
          const customer = await customerClient(sf.settings, sf.storage, value("email"));
          const order = await customer.orders.createOrder({
            requestId,
            email: value("email"),
            lines: sf.cart.lines().map((line) => ({ sku: line.sku, quantity: BigInt(line.quantity) })),
            shippingAddress: {
              name: value("name"),
              line1: value("line1"),
              city: value("city"),
              postalCode: value("postalCode"),
              countryCode: value("countryCode"),
            },
            paymentMethod: value("paymentMethod"),
          });
          requestId = undefined;
          rememberOrder(sf.storage, order.id, order.accessToken);
          if (order.state === OrderState.CANCELLED) {
            message.replaceChildren(
              notice(
                "error",
                h("strong", {}, "Payment refused. "),
                order.cancelReason,
                " Your cart is kept: try another card.",
              ),
            );
            pay.disabled = false;
            return;
          }
          if (order.state === OrderState.PAID) sf.cart.clear();
          else sf.storage.setItem(checkoutOrderKey, order.id);
          if (order.state === OrderState.AWAITING_PAYMENT && order.paymentNextActionUrl !== "") {
            message.replaceChildren(notice("info", "Your bank asks you to confirm this payment…"));
            location.assign(challengeAddress(order.paymentNextActionUrl, order.id));
            return;
          }
          location.hash = `#/order/${encodeURIComponent(order.id)}`;
        } catch (err) {
          const error = ConnectError.from(err);
          const retryable = [Code.Unavailable, Code.Unknown, Code.DeadlineExceeded, Code.Canceled].includes(error.code);
          if (!retryable) requestId = undefined;
          pay.disabled = false;
          if (error.code === Code.ResourceExhausted && /out of stock/.test(error.rawMessage)) {
            const flags = await soldOutLines(sf);
            showSummary(flags);
            message.replaceChildren(
              notice(
                "error",
                h("strong", {}, "Sold out while it was in your cart. "),
                `${soldOutItem(sf, error.rawMessage)} is out of stock. Nothing was charged. `,
                h("a", { href: "#/cart" }, "Change your cart"),
                " and try again.",
              ),
            );
            return;
          }
          message.replaceChildren(notice("error", describeError(err, sf.settings)));
        }
      },
    },
    h("h2", {}, "Contact"),
    field("Email", "email", { type: "email", autocomplete: "email" }),
    h("h2", {}, "Shipping address"),
    field("Full name", "name", { autocomplete: "name" }),
    field("Address", "line1", { autocomplete: "address-line1" }),
    field("City", "city", { autocomplete: "address-level2" }),
    field("Postal code", "postalCode", { autocomplete: "postal-code" }),
    h(
      "label",
      {},
      "Country",
      h("select", { name: "countryCode" }, ...countries.map(([code, name]) => h("option", { value: code }, name))),
    ),
    h("h2", {}, "Payment"),
    h(
      "label",
      {},
      "Test card",
      h("select", { name: "paymentMethod" }, ...testCards.map(([id, label]) => h("option", { value: id }, label))),
    ),
    h("p", { class: "note" }, "Cards are charged by Shop's Stripe emulator; no real money moves."),
    pay,
  );
  return h(
    "div",
    { class: "checkout-page" },
    h("h1", {}, "Checkout"),
    h("div", { class: "checkout-layout" }, h("div", {}, form, message), summary),
  );
}

/** The cart line the refusal names ("MUG-1 is out of stock: …"), by its title; the whole message if none matches. */
function soldOutItem(sf: Storefront, refusal: string): string {
  const sku = /^(\S+) is out of stock/.exec(refusal)?.[1];
  const line = sf.cart.lines().find((l) => l.sku === sku);
  return line === undefined ? (sku ?? "An item") : `${line.title} (${line.sku})`;
}

/** Which cart lines the catalog no longer has enough of, as "Sold out" / "Only 2 left". */
async function soldOutLines(sf: Storefront): Promise<Map<string, string>> {
  const flags = new Map<string, string>();
  await Promise.all(
    sf.cart.lines().map(async (line) => {
      try {
        const product = await sf.shop.search.getProduct({ id: line.productId });
        const available = product.variants.find((v) => v.sku === line.sku)?.available ?? product.available;
        if (available < BigInt(line.quantity))
          flags.set(line.sku, available <= 0n ? "Sold out" : `Only ${available} left`);
      } catch {
        flags.set(line.sku, "No longer available");
      }
    }),
  );
  return flags;
}
