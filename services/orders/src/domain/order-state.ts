import { clone, create } from "@bufbuild/protobuf";
import { MoneySchema } from "@shop/contracts/shop/common/v1/money_pb.js";
import {
  type OrderCancelled,
  OrderCancelledSchema,
  type OrderFulfilled,
  OrderFulfilledSchema,
  type OrderPaid,
  OrderPaidSchema,
  type OrderPlaced,
  OrderPlacedSchema,
  type OrderRefunded,
  OrderRefundedSchema,
  type PaymentFailed,
  PaymentFailedSchema,
  type PaymentRequested,
  PaymentRequestedSchema,
  type PaymentSucceeded,
  PaymentSucceededSchema,
  type StockReserved,
  StockReservedSchema,
} from "@shop/contracts/shop/orders/v1/events_pb.js";
import { type Order, OrderSchema, OrderState, RefundSchema } from "@shop/contracts/shop/orders/v1/order_pb.js";

/** The events an order's subject holds, in the order they happen. */
export type OrderEvent =
  | OrderPlaced
  | StockReserved
  | PaymentRequested
  | PaymentSucceeded
  | PaymentFailed
  | OrderPaid
  | OrderCancelled
  | OrderRefunded
  | OrderFulfilled;

/** Their schemas, to publish and decode them by type name. */
export const orderEventSchemas = [
  OrderPlacedSchema,
  StockReservedSchema,
  PaymentRequestedSchema,
  PaymentSucceededSchema,
  PaymentFailedSchema,
  OrderPaidSchema,
  OrderCancelledSchema,
  OrderRefundedSchema,
  OrderFulfilledSchema,
] as const;

/** Orders in these states are done: nothing in checkout changes them any more. */
export function isSettled(order: Order): boolean {
  return order.state !== OrderState.PENDING && order.state !== OrderState.AWAITING_PAYMENT;
}

/**
 * The order after one more of its events. Replaying an order's events in order from nothing rebuilds it; an event
 * whose version is not newer than the order's is a duplicate and changes nothing.
 */
export function applyOrderEvent(current: Order | undefined, event: OrderEvent): Order {
  const meta = event.meta;
  if (meta === undefined) return current ?? clone(OrderSchema, {} as Order);
  if (current !== undefined && meta.aggregateVersion <= current.version) return current;
  if (event.$typeName === "shop.orders.v1.OrderPlaced") {
    const order = clone(OrderSchema, event.order ?? ({} as Order));
    order.state = OrderState.PENDING;
    order.version = meta.aggregateVersion;
    order.createTime = meta.occurTime;
    order.updateTime = meta.occurTime;
    return order;
  }
  if (current === undefined) throw new Error(`${event.$typeName} of ${meta.aggregateId} before its OrderPlaced`);
  const order = clone(OrderSchema, current);
  order.version = meta.aggregateVersion;
  order.updateTime = meta.occurTime;
  switch (event.$typeName) {
    case "shop.orders.v1.PaymentRequested":
      order.state = OrderState.AWAITING_PAYMENT;
      order.paymentIntentId = event.paymentIntentId;
      order.paymentClientSecret = event.clientSecret;
      order.paymentNextActionUrl = event.nextActionUrl;
      break;
    case "shop.orders.v1.OrderPaid":
      order.state = OrderState.PAID;
      order.paymentNextActionUrl = "";
      break;
    case "shop.orders.v1.OrderCancelled":
      order.state = OrderState.CANCELLED;
      order.cancelReason = event.reason;
      order.paymentNextActionUrl = "";
      break;
    case "shop.orders.v1.OrderRefunded": {
      const refunded = (order.refunded?.amountMinor ?? 0n) + (event.amount?.amountMinor ?? 0n);
      order.refunded = create(MoneySchema, { currencyCode: event.amount?.currencyCode ?? "", amountMinor: refunded });
      order.refunds.push(
        create(RefundSchema, {
          refundId: event.refundId,
          amount: event.amount,
          reason: event.reason,
          requestId: event.requestId,
          createTime: meta.occurTime,
        }),
      );
      order.state = refunded >= paidMinor(order) ? OrderState.REFUNDED : OrderState.PARTIALLY_REFUNDED;
      break;
    }
    case "shop.orders.v1.OrderFulfilled":
      order.state = OrderState.FULFILLED;
      order.trackingNumber = event.trackingNumber;
      order.carrier = event.carrier;
      order.fulfillTime = meta.occurTime;
      break;
    default:
      // StockReserved, PaymentSucceeded, PaymentFailed: recorded facts on the way to the next state.
      break;
  }
  return order;
}

/** What the customer paid: the order's total once it was paid (refunds are taken from this). */
export function paidMinor(order: Order): bigint {
  return (order.total ?? order.subtotal)?.amountMinor ?? 0n;
}

/** What can still be refunded: paid minus refunded; nothing before the payment succeeded or after a cancel. */
export function refundableMinor(order: Order): bigint {
  const paid = [OrderState.PAID, OrderState.FULFILLED, OrderState.PARTIALLY_REFUNDED, OrderState.REFUNDED];
  if (!paid.includes(order.state)) return 0n;
  return paidMinor(order) - (order.refunded?.amountMinor ?? 0n);
}
