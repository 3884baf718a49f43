import type { Money } from "@shop/contracts/shop/common/v1/money_pb.js";
import type { Order } from "@shop/contracts/shop/orders/v1/order_pb.js";

/** The emails a customer gets about an order, one per event that triggers it. */
export type OrderEmailKind = "order-confirmation" | "payment-failed" | "shipped" | "refunded";

/** What the event adds to the order for its email. */
export type OrderEmailFacts =
  | { kind: "order-confirmation" }
  | { kind: "payment-failed"; failureMessage: string }
  | { kind: "shipped"; trackingNumber: string; carrier: string }
  | { kind: "refunded"; amount: Money | undefined; reason: string };

/** A composed email: plain text, addressed to the order's customer. */
export interface OrderEmail {
  kind: OrderEmailKind;
  to: string;
  subject: string;
  text: string;
}

/**
 * "€12.50" from 1250 EUR minor units, with the currency's own number of decimals. The amount reaches Intl as an exact
 * decimal string, never as a float.
 */
// Building a NumberFormat costs far more than formatting with one; a shop uses a handful of currencies.
const formats = new Map<string, Intl.NumberFormat>();

function currencyFormat(currency: string): Intl.NumberFormat {
  let format = formats.get(currency);
  if (format === undefined) {
    format = new Intl.NumberFormat("en", { style: "currency", currency });
    if (formats.size < 256) formats.set(currency, format);
  }
  return format;
}

export function formatMoney(money: Pick<Money, "currencyCode" | "amountMinor"> | undefined): string {
  if (money === undefined || money.currencyCode === "") return "";
  const format = currencyFormat(money.currencyCode);
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const negative = money.amountMinor < 0n;
  const units = (negative ? -money.amountMinor : money.amountMinor).toString().padStart(digits + 1, "0");
  const decimal = digits === 0 ? units : `${units.slice(0, -digits)}.${units.slice(-digits)}`;
  return format.format(`${negative ? "-" : ""}${decimal}` as unknown as number);
}

function lineTable(order: Order): string {
  const rows = order.lines.map((line) => [
    `${line.quantity} × ${line.title || line.sku}`,
    line.sku,
    `${formatMoney(line.unitPrice)} each`,
    formatMoney(line.lineTotal),
  ]);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows
    .map((row) => `  ${row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column] ?? 0) : cell)).join("   ")}`)
    .join("\n");
}

function totals(order: Order): string {
  return [`  Subtotal: ${formatMoney(order.subtotal)}`, `  Total:    ${formatMoney(order.total)}`].join("\n");
}

function address(order: Order): string {
  const a = order.shippingAddress;
  if (a === undefined) return "";
  const cityLine = [a.postalCode, a.city, a.region].filter((part) => part !== "").join(" ");
  return [a.name, a.line1, a.line2, cityLine, a.countryCode]
    .filter((part) => part !== "")
    .map((part) => `  ${part}`)
    .join("\n");
}

const signature = "Thank you for shopping with us.\n";

/** Subject and plain-text body of the email `facts` calls for, about `order`. */
export function composeOrderEmail(order: Order, facts: OrderEmailFacts): OrderEmail {
  const ref = `Order ${order.id}`;
  const summary = `${lineTable(order)}\n\n${totals(order)}`;
  const base = { kind: facts.kind, to: order.email };
  switch (facts.kind) {
    case "order-confirmation":
      return {
        ...base,
        subject: `Your order ${order.id} is confirmed`,
        text: [
          "Hello,",
          `we received your payment of ${formatMoney(order.total)}, and your order is confirmed.`,
          `${ref}\n\n${summary}`,
          address(order) === "" ? "" : `It ships to:\n${address(order)}`,
          "We will write again when it ships.",
          signature,
        ]
          .filter((part) => part !== "")
          .join("\n\n"),
      };
    case "payment-failed": {
      const why = facts.failureMessage.trim() || "the card was refused.";
      return {
        ...base,
        subject: `Your payment for order ${order.id} did not go through`,
        text: [
          "Hello,",
          `the payment of ${formatMoney(order.total)} for your order did not go through: ${why}`,
          "You were not charged, and the order is cancelled; the items are back on sale. To buy them, place a new " +
            "order with another card.",
          `${ref}\n\n${summary}`,
          signature,
        ].join("\n\n"),
      };
    }
    case "shipped": {
      const tracking =
        facts.trackingNumber === ""
          ? "The carrier did not give a tracking number."
          : `Tracking number: ${facts.trackingNumber}${facts.carrier === "" ? "" : ` (${facts.carrier})`}`;
      return {
        ...base,
        subject: `Your order ${order.id} has shipped`,
        text: [
          "Hello,",
          "your order is on its way.",
          tracking,
          `${ref}\n\n${summary}`,
          address(order) === "" ? "" : `It ships to:\n${address(order)}`,
          signature,
        ]
          .filter((part) => part !== "")
          .join("\n\n"),
      };
    }
    case "refunded": {
      const amount = formatMoney(facts.amount) || "the amount paid";
      return {
        ...base,
        subject: `Refund of ${amount} for order ${order.id}`,
        text: [
          "Hello,",
          `we refunded ${amount} to the card you paid with. It usually appears on your statement within 5 to 10 ` +
            "business days.",
          facts.reason.trim() === "" ? "" : `Reason: ${facts.reason.trim()}`,
          `${ref}\n\n${summary}`,
          signature,
        ]
          .filter((part) => part !== "")
          .join("\n\n"),
      };
    }
  }
}
