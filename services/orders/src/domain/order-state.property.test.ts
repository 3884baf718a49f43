// Property tests of the order fold: over any history the checkout and the operations can write, delivered at least once
// and with old events redelivered at any point, the order only moves along the state machine, never refunds more than
// was paid, and ends as the clean history leaves it.
import { create, equals } from "@bufbuild/protobuf";
import { MoneySchema } from "@shop/contracts/shop/common/v1/money_pb.js";
import {
  OrderCancelledSchema,
  OrderFulfilledSchema,
  OrderPaidSchema,
  OrderPlacedSchema,
  OrderRefundedSchema,
  PaymentFailedSchema,
  PaymentRequestedSchema,
  PaymentSucceededSchema,
  StockReservedSchema,
} from "@shop/contracts/shop/orders/v1/events_pb.js";
import { type Order, OrderSchema, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { newEventMeta } from "@shop/platform";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyOrderEvent, type OrderEvent, paidMinor, refundableMinor } from "./order-state.js";

const S = OrderState;
/** Where each state may go next (staying put included): the lifecycle the contract's OrderState comments describe. */
const transitions: Record<number, OrderState[]> = {
  [S.PENDING]: [S.PENDING, S.AWAITING_PAYMENT, S.CANCELLED],
  [S.AWAITING_PAYMENT]: [S.AWAITING_PAYMENT, S.PAID, S.CANCELLED],
  [S.PAID]: [S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.CANCELLED],
  [S.FULFILLED]: [S.FULFILLED, S.PARTIALLY_REFUNDED, S.REFUNDED],
  [S.PARTIALLY_REFUNDED]: [S.PARTIALLY_REFUNDED, S.REFUNDED, S.CANCELLED],
  [S.REFUNDED]: [S.REFUNDED, S.CANCELLED],
  [S.CANCELLED]: [S.CANCELLED],
};

const orderId = "ord_prop";
const money = (amountMinor: bigint) => create(MoneySchema, { currencyCode: "EUR", amountMinor });

/**
 * The events the service may write next for an order in `order`'s state, as the saga and the operations decide them
 * (refunds only of what is refundable, fulfilment only of a paid order); `amount` sizes a partial refund.
 */
function nextEvents(order: Order, version: bigint, amount: bigint): OrderEvent[] {
  const meta = () => newEventMeta(orderId, version, { now: Number(version) * 1000 });
  const refundable = refundableMinor(order);
  const refund = (minor: bigint) =>
    create(OrderRefundedSchema, { meta: meta(), orderId, amount: money(minor), refundId: `re_${version}` });
  const cancel = create(OrderCancelledSchema, { meta: meta(), orderId, reason: "property" });
  switch (order.state) {
    case S.PENDING:
      return [
        create(StockReservedSchema, { meta: meta(), orderId, reservationId: "res" }),
        create(PaymentRequestedSchema, { meta: meta(), orderId, paymentIntentId: "pi", amount: order.total }),
        create(PaymentFailedSchema, { meta: meta(), orderId, paymentIntentId: "pi" }),
        cancel,
      ];
    case S.AWAITING_PAYMENT:
      return [
        create(PaymentSucceededSchema, { meta: meta(), orderId, paymentIntentId: "pi", amount: order.total }),
        create(PaymentFailedSchema, { meta: meta(), orderId, paymentIntentId: "pi" }),
        create(OrderPaidSchema, { meta: meta(), orderId }),
        cancel,
      ];
    case S.PAID:
      return [
        create(OrderFulfilledSchema, { meta: meta(), orderId, trackingNumber: "1Z", carrier: "UPS" }),
        refund(1n + (amount % refundable)),
        cancel,
      ];
    case S.FULFILLED:
    case S.PARTIALLY_REFUNDED:
      return refundable > 0n ? [refund(1n + (amount % refundable))] : [];
    case S.REFUNDED:
      return [cancel];
    default:
      return [];
  }
}

/** A history of one order: OrderPlaced, then the choices picked among the legal next events. */
const histories = fc
  .record({
    total: fc.bigInt({ min: 1n, max: 10_000_000n }),
    choices: fc.array(fc.record({ pick: fc.nat(), amount: fc.bigInt({ min: 0n, max: 10_000_000n }) }), {
      maxLength: 12,
    }),
    redeliveries: fc.array(fc.array(fc.nat(), { maxLength: 3 }), { maxLength: 13 }),
  })
  .map(({ total, choices, redeliveries }) => {
    const placed = create(OrderPlacedSchema, {
      meta: newEventMeta(orderId, 1n, { now: 1000 }),
      order: { id: orderId, subtotal: money(total), total: money(total) },
      requestId: "req-prop",
    });
    const history: OrderEvent[] = [placed];
    let order = applyOrderEvent(undefined, placed);
    for (const choice of choices) {
      const options = nextEvents(order, BigInt(history.length + 1), choice.amount);
      const event = options[choice.pick % Math.max(options.length, 1)];
      if (!event) break;
      history.push(event);
      order = applyOrderEvent(order, event);
    }
    // At-least-once delivery: after each event, any of the events before it (or itself) may arrive again.
    const delivered: OrderEvent[] = [];
    history.forEach((event, i) => {
      delivered.push(event);
      for (const again of redeliveries[i] ?? []) delivered.push(history[again % (i + 1)] as OrderEvent);
    });
    return { history, delivered };
  });

describe("the order state machine (property)", () => {
  it("moves only along its transitions, never refunds more than was paid, and never leaves a valid state", () => {
    fc.assert(
      fc.property(histories, ({ history }) => {
        let order: Order | undefined;
        for (const event of history) {
          const before = order;
          order = applyOrderEvent(order, event);
          expect(Object.keys(transitions).map(Number)).toContain(order.state);
          if (before)
            expect(transitions[before.state], `${S[before.state]} → ${S[order.state]}`).toContain(order.state);
          const refunded = order.refunded?.amountMinor ?? 0n;
          expect(refunded).toBeGreaterThanOrEqual(0n);
          expect(refunded).toBeLessThanOrEqual(paidMinor(order));
          expect(refundableMinor(order)).toBeGreaterThanOrEqual(0n);
          if (order.state === S.REFUNDED) expect(refunded).toBe(paidMinor(order));
          if (order.state === S.PARTIALLY_REFUNDED) expect(refunded).toBeLessThan(paidMinor(order));
          expect(order.version).toBe(event.meta?.aggregateVersion);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("ends as the clean history leaves it, however often old events are delivered again", () => {
    fc.assert(
      fc.property(histories, ({ history, delivered }) => {
        const fold = (events: OrderEvent[]) =>
          events.reduce<Order | undefined>((order, event) => applyOrderEvent(order, event), undefined) as Order;
        expect(equals(OrderSchema, fold(delivered), fold(history))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
