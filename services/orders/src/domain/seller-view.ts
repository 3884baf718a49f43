import { clone, create } from "@bufbuild/protobuf";
import { MoneySchema } from "@shop/contracts/shop/common/v1/money_pb.js";
import { type Order, OrderSchema } from "@shop/contracts/shop/orders/v1/order_pb.js";

/** True when at least one of the order's lines is a product of this seller (their API key id). */
export function hasLinesOf(order: Order, sellerId: string): boolean {
  return sellerId !== "" && order.lines.some((line) => line.sellerId === sellerId);
}

/**
 * An order as one seller of a multi-seller marketplace sees it: only their own lines, totals over those lines, and
 * nothing of the payment (intent, client secret, refunds), which is between the shop and the customer. The shipping
 * address and email stay: the seller ships the parcel.
 */
export function sellerView(order: Order, sellerId: string): Order {
  const view = clone(OrderSchema, order);
  view.lines = view.lines.filter((line) => line.sellerId === sellerId);
  const currencyCode = order.subtotal?.currencyCode ?? "";
  const sum = view.lines.reduce((total, line) => total + (line.lineTotal?.amountMinor ?? 0n), 0n);
  view.subtotal = create(MoneySchema, { currencyCode, amountMinor: sum });
  view.total = create(MoneySchema, { currencyCode, amountMinor: sum });
  view.paymentIntentId = "";
  view.paymentClientSecret = "";
  view.paymentNextActionUrl = "";
  view.refunded = undefined;
  view.refunds = [];
  view.accessToken = "";
  return view;
}
