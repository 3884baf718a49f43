import { clone } from "@bufbuild/protobuf";
import {
  type OrderCancelled,
  OrderCancelledSchema,
  type OrderPaid,
  OrderPaidSchema,
  type OrderPlaced,
  OrderPlacedSchema,
  type PaymentFailed,
  PaymentFailedSchema,
  type PaymentRequested,
  PaymentRequestedSchema,
  type PaymentSucceeded,
  PaymentSucceededSchema,
  type StockReserved,
  StockReservedSchema,
} from "@shop/contracts/shop/orders/v1/events_pb.js";
import { type Order, OrderSchema, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";

/** The events an order's subject holds, in the order they happen. */
export type OrderEvent =
  | OrderPlaced
  | StockReserved
  | PaymentRequested
  | PaymentSucceeded
  | PaymentFailed
  | OrderPaid
  | OrderCancelled;

/** Their schemas, to publish and decode them by type name. */
export const orderEventSchemas = [
  OrderPlacedSchema,
  StockReservedSchema,
  PaymentRequestedSchema,
  PaymentSucceededSchema,
  PaymentFailedSchema,
  OrderPaidSchema,
  OrderCancelledSchema,
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
    default:
      // StockReserved, PaymentSucceeded, PaymentFailed: recorded facts on the way to the next state.
      break;
  }
  return order;
}
