import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Money, MoneySchema } from "@shop/contracts/shop/common/v1/money_pb.js";
import {
  OrderCancelledSchema,
  OrderFulfilledSchema,
  OrderRefundedSchema,
} from "@shop/contracts/shop/orders/v1/events_pb.js";
import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { InvalidInputError, NotFoundError, newEventMeta, PreconditionError } from "@shop/platform";
import { cancelRefundRequestIdOf, orderEventId, paymentKeys, restockRequestIdOf } from "./domain/order-ids.js";
import { refundableMinor } from "./domain/order-state.js";
import { OrderCursor, releaseStock, type SagaPorts } from "./order-saga.js";
import { isOrderConflict } from "./store/order-event-store.js";

// Cancel, refund and fulfil after checkout. Each reads the order from its subject, decides from its state, does the
// outside calls (each idempotent: keyed by the order or the request), then appends with the subject's last sequence.
// Another writer in between → re-read and decide again. Money given back cannot be taken back, so these steps have no
// compensation: a failure part-way leaves the order where the last append put it, and repeating the call finishes it
// (the calls already made are answered again, not repeated).

const conflictAttempts = 5;

/**
 * The next event's meta, its id naming the operation as well as the version: a retried operation re-sends the same
 * id (stored once), while a different operation racing for the same version is refused by the sequence check instead
 * of being taken for a duplicate of the first.
 */
function metaFor(cursor: OrderCursor, operation: string) {
  const version = cursor.order.version + 1n;
  return newEventMeta(cursor.order.id, version, { eventId: `${orderEventId(cursor.order.id, version)}:${operation}` });
}

/** Runs `decide` on the order as its subject holds it, again on a fresh read when another writer got there first. */
async function onOrder(ports: SagaPorts, orderId: string, decide: (cursor: OrderCursor) => Promise<Order>) {
  for (let attempt = 1; ; attempt++) {
    const stored = await ports.store.load(orderId);
    if (stored === undefined) throw new NotFoundError(`order ${orderId} not found`);
    try {
      return await decide(new OrderCursor(ports.store, stored));
    } catch (err) {
      if (!isOrderConflict(err)) throw err;
      if (attempt >= conflictAttempts) {
        throw new ConnectError(`order ${orderId} kept changing while this ran; try again`, Code.Aborted);
      }
    }
  }
}

const paidStates = [OrderState.PAID, OrderState.PARTIALLY_REFUNDED, OrderState.REFUNDED];
const isShipped = (order: Order) => order.state === OrderState.FULFILLED || order.fulfillTime !== undefined;
const currencyOf = (order: Order) => (order.total ?? order.subtotal)?.currencyCode ?? "";

// Steps of cancelling a paid order: give back what is left of the payment, then put the units back on sale.

async function refundRest(ports: SagaPorts, cursor: OrderCursor, reason: string): Promise<void> {
  const requestId = cancelRefundRequestIdOf(cursor.order.id);
  const left = refundableMinor(cursor.order);
  if (left <= 0n || cursor.order.refunds.some((refund) => refund.requestId === requestId)) return;
  await refund(ports, cursor, { currencyCode: currencyOf(cursor.order), amountMinor: left }, reason, requestId);
}
async function restock(ports: SagaPorts, cursor: OrderCursor): Promise<void> {
  // The sale was committed, so there is no hold to release: the units are added back, once per order and SKU.
  for (const line of cursor.order.lines) {
    await ports.inventory.adjust({
      sku: line.sku,
      change: { case: "delta", value: line.quantity },
      reason: `order ${cursor.order.id} cancelled after payment`,
      requestId: restockRequestIdOf(cursor.order.id, line.sku),
    });
  }
}

async function refund(
  ports: SagaPorts,
  cursor: OrderCursor,
  amount: Pick<Money, "currencyCode" | "amountMinor">,
  reason: string,
  requestId: string,
  paymentIntentId = cursor.order.paymentIntentId,
): Promise<void> {
  const { id } = cursor.order;
  const money = create(MoneySchema, amount);
  const { refundId } = await ports.payments.refund(id, paymentIntentId, money, paymentKeys.refund(id, requestId));
  await cursor.append(
    create(OrderRefundedSchema, {
      meta: metaFor(cursor, `refund:${requestId}`),
      orderId: id,
      amount: money,
      refundId,
      reason,
      requestId,
    }),
  );
}

async function markCancelled(cursor: OrderCursor, reason: string): Promise<void> {
  await cursor.append(
    create(OrderCancelledSchema, { meta: metaFor(cursor, "cancel"), orderId: cursor.order.id, reason }),
  );
}

/**
 * Cancels an order before it ships. Not yet paid: release the hold, cancel the PaymentIntent → cancelled. Paid:
 * refund what is left at Stripe, add the units back to stock → cancelled (with `refunded` = the total). Shipped:
 * refused. An order already cancelled is returned as it is.
 */
export function cancelOrder(ports: SagaPorts, orderId: string, reason: string): Promise<Order> {
  return onOrder(ports, orderId, async (cursor) => {
    const { state } = cursor.order;
    if (state === OrderState.CANCELLED) return cursor.order;
    if (isShipped(cursor.order)) {
      throw new PreconditionError(`order ${orderId} is already shipped: ask for a refund (RefundOrder) instead`);
    }
    if (state === OrderState.PENDING || state === OrderState.AWAITING_PAYMENT) {
      await releaseStock(ports, cursor, reason).catch(ignoreNotFound);
      const intentId = await checkoutIntentId(ports, cursor.order);
      if (intentId !== "" && (await ports.payments.cancel(cursor.order.id, intentId)) === "succeeded") {
        // The customer paid (3-D Secure completed, or a checkout still running confirmed the card) while the order
        // was being cancelled: the order stays cancelled and the whole payment goes back.
        const total = cursor.order.total?.amountMinor ?? 0n;
        await refund(
          ports,
          cursor,
          { currencyCode: currencyOf(cursor.order), amountMinor: total },
          reason,
          cancelRefundRequestIdOf(cursor.order.id),
          intentId,
        );
      }
    } else if (paidStates.includes(state)) {
      await refundRest(ports, cursor, reason);
      await restock(ports, cursor);
    } else {
      throw new PreconditionError(`order ${orderId} cannot be cancelled in state ${OrderState[state]}`);
    }
    await markCancelled(cursor, reason);
    return cursor.order;
  });
}

/**
 * The order's PaymentIntent, also while its checkout has not recorded one yet (it records it only after confirming):
 * created with the checkout's own idempotency key, Stripe answers with the checkout's intent, or creates the one the
 * checkout will then get back, already cancelled, so it can never charge a cancelled order.
 */
async function checkoutIntentId(ports: SagaPorts, order: Order): Promise<string> {
  if (order.paymentIntentId !== "") return order.paymentIntentId;
  const amount = order.total ?? order.subtotal;
  if (amount === undefined) return "";
  return (await ports.payments.createIntent(order.id, amount)).intentId;
}

/** A hold that was never made (checkout had not reserved yet) or is already gone is nothing to release. */
function ignoreNotFound(err: unknown): void {
  if (ConnectError.from(err).code !== Code.NotFound) throw err;
}

/**
 * Refunds part or (amount unset) the rest of a paid order's payment at Stripe, keyed by `requestId`: a retried request
 * finds its refund recorded and refunds nothing more. Never more than paid minus refunded; nothing is sent to Stripe
 * when the amount is refused.
 */
export function refundOrder(
  ports: SagaPorts,
  orderId: string,
  request: { amount?: Money; reason: string; requestId: string },
): Promise<Order> {
  return onOrder(ports, orderId, async (cursor) => {
    const order = cursor.order;
    if (order.refunds.some((earlier) => earlier.requestId === request.requestId)) return order;
    if (!paidStates.includes(order.state) && order.state !== OrderState.FULFILLED) {
      throw new PreconditionError(
        order.state === OrderState.CANCELLED
          ? `order ${orderId} is cancelled: its payment was already cancelled or refunded`
          : `order ${orderId} is not paid yet: cancel it (CancelOrder) instead`,
      );
    }
    const currencyCode = currencyOf(order);
    const left = refundableMinor(order);
    if (left <= 0n) throw new PreconditionError(`order ${orderId} is already refunded in full`);
    const amountMinor = request.amount?.amountMinor ?? left;
    if (request.amount !== undefined && request.amount.currencyCode !== currencyCode) {
      throw new InvalidInputError(
        "amount",
        `the order was paid in ${currencyCode}, not ${request.amount.currencyCode}`,
      );
    }
    if (amountMinor <= 0n) throw new InvalidInputError("amount", "must be more than 0 (leave it unset for the rest)");
    if (amountMinor > left) {
      throw new InvalidInputError(
        "amount",
        `${amountMinor} is more than the ${left} ${currencyCode} (minor units) paid and not yet refunded`,
      );
    }
    await refund(ports, cursor, { currencyCode, amountMinor }, request.reason, request.requestId);
    return cursor.order;
  });
}

/** Marks a paid order shipped with its tracking number; the same call repeated returns the order as it is. */
export function fulfillOrder(
  ports: SagaPorts,
  orderId: string,
  shipment: { trackingNumber: string; carrier: string },
): Promise<Order> {
  return onOrder(ports, orderId, async (cursor) => {
    const order = cursor.order;
    if (
      order.state === OrderState.FULFILLED &&
      order.trackingNumber === shipment.trackingNumber &&
      order.carrier === shipment.carrier
    ) {
      return order;
    }
    if (order.state !== OrderState.PAID) throw new PreconditionError(whyNotShippable(order));
    await cursor.append(
      create(OrderFulfilledSchema, {
        meta: metaFor(cursor, `fulfil:${shipment.trackingNumber}`),
        orderId,
        ...shipment,
      }),
    );
    return cursor.order;
  });
}

function whyNotShippable(order: Order): string {
  switch (order.state) {
    case OrderState.PENDING:
    case OrderState.AWAITING_PAYMENT:
      return `order ${order.id} is not paid yet: ship it once it is paid`;
    case OrderState.FULFILLED:
      return `order ${order.id} is already shipped (${order.carrier} ${order.trackingNumber})`;
    case OrderState.CANCELLED:
      return `order ${order.id} is cancelled: do not ship it`;
    default:
      return `order ${order.id} was refunded: do not ship it without asking the shop`;
  }
}
