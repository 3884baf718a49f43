import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { formatMoney } from "@shop/sdk";
import { h, notice } from "../dom.js";
import { challengeAddress, checkoutOrderKey } from "../payment-return.js";
import { customerClient, describeError, orderAccessToken } from "../shop-connection.js";
import type { Storefront } from "../storefront.js";

const pollEveryMs = 1000;

const stateText: Record<OrderState, string> = {
  [OrderState.UNSPECIFIED]: "Unknown",
  [OrderState.PENDING]: "Being placed",
  [OrderState.AWAITING_PAYMENT]: "Awaiting payment",
  [OrderState.PAID]: "Paid",
  [OrderState.FULFILLED]: "Shipped",
  [OrderState.CANCELLED]: "Cancelled",
  [OrderState.REFUNDED]: "Refunded",
  [OrderState.PARTIALLY_REFUNDED]: "Partly refunded",
};

/** An order's status, polled until its payment settles (after 3-D Secure the payment webhook decides it). */
export async function orderPage(sf: Storefront, id: string): Promise<HTMLElement> {
  const customer = await customerClient(sf.settings, sf.storage);
  const accessToken = orderAccessToken(sf.storage, id);
  const read = () => customer.orders.getOrder({ id, accessToken }, { signal: sf.signal });
  const view = h("div", { class: "order-page" });
  const authentication = sf.arrival.get("redirect_status");
  const show = (order: Order) => {
    view.dataset.state = OrderState[order.state];
    view.replaceChildren(...renderOrder(order, authentication));
    // The cart paid for by this order is emptied once it is paid; a cancelled one leaves the cart for another try.
    if (!unsettled(order) && sf.storage.getItem(checkoutOrderKey) === order.id) {
      if (order.state === OrderState.PAID) sf.cart.clear();
      sf.storage.removeItem(checkoutOrderKey);
    }
  };
  const poll = async () => {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, pollEveryMs));
      if (sf.signal.aborted) return;
      try {
        const order = await read();
        if (sf.signal.aborted) return;
        show(order);
        if (!unsettled(order)) return;
      } catch (err) {
        if (sf.signal.aborted) return;
        view.append(notice("error", describeError(err, sf.settings)));
        return;
      }
    }
  };
  const first = await read();
  show(first);
  if (unsettled(first)) void poll();
  return view;
}

const unsettled = (order: Order) => order.state === OrderState.PENDING || order.state === OrderState.AWAITING_PAYMENT;

function renderOrder(order: Order, authentication: string | null): Node[] {
  const state = OrderState[order.state];
  const headline: Record<string, string> = {
    PAID: "Thank you! Your order is paid.",
    FULFILLED: "Your order is on its way.",
    CANCELLED: "This order was cancelled.",
    AWAITING_PAYMENT: "Waiting for your payment…",
    PENDING: "Placing your order…",
  };
  const nodes: Node[] = [
    h("h1", {}, headline[state] ?? `Order ${stateText[order.state]}`),
    h(
      "p",
      {},
      "Order ",
      h("code", { class: "order-id" }, order.id),
      " — ",
      h("span", { class: "order-state", "data-state": state }, stateText[order.state]),
    ),
  ];
  if (order.state === OrderState.AWAITING_PAYMENT) {
    if (authentication === "failed")
      nodes.push(notice("info", "The bank check was not completed; the payment is being cancelled."));
    if (order.paymentNextActionUrl !== "") {
      nodes.push(
        h(
          "p",
          {},
          h(
            "a",
            { class: "button primary", href: challengeAddress(order.paymentNextActionUrl, order.id) },
            "Confirm the payment with your bank",
          ),
        ),
      );
    }
  }
  if (order.state === OrderState.CANCELLED) {
    nodes.push(
      notice(
        "error",
        order.cancelReason || "The order was cancelled.",
        " ",
        h("a", { href: "#/checkout" }, "Your cart is kept: try again"),
      ),
    );
  }
  nodes.push(
    h(
      "table",
      { class: "cart-lines" },
      h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", {}, "Price"), h("th", {}, "Qty"), h("th", {}, "Total"))),
      h(
        "tbody",
        {},
        ...order.lines.map((line) =>
          h(
            "tr",
            { "data-sku": line.sku },
            h("td", {}, line.title),
            h("td", {}, formatMoney(line.unitPrice)),
            h("td", {}, String(line.quantity)),
            h("td", {}, formatMoney(line.lineTotal)),
          ),
        ),
      ),
    ),
    h("p", { class: "subtotal" }, "Total: ", h("strong", { class: "order-total" }, formatMoney(order.total))),
  );
  if (order.shippingAddress) {
    const a = order.shippingAddress;
    nodes.push(
      h("p", { class: "address" }, `Ships to ${a.name}, ${a.line1}, ${a.postalCode} ${a.city}, ${a.countryCode}`),
    );
  }
  nodes.push(h("p", {}, h("a", { href: "#/" }, "Continue shopping")));
  return nodes;
}
