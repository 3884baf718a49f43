import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";

/** What Stripe says about an order's PaymentIntent, as far as recovery decides on it. */
export type IntentStatus = "succeeded" | "processing" | "requires_action" | "canceled" | "unconfirmed" | "failed";

/** Where the order's recorded events say checkout stopped. The saga appends them in a fixed order. */
export type RecordedStep = "placed" | "stock-reserved" | "payment-requested";

/** What recovery does with one stuck order. */
export type RecoveryDecision =
  | { kind: "commit"; action: string }
  | { kind: "compensate"; action: string; reason: string }
  | { kind: "wait"; action: string };

/**
 * The last checkout step the order's events record. OrderPlaced is version 1 and StockReserved version 2; the
 * PaymentIntent is only ever created after StockReserved is stored, so an order still at "placed" has no intent.
 */
export function recordedStep(order: Order): RecordedStep {
  if (order.state === OrderState.AWAITING_PAYMENT || order.paymentIntentId !== "") return "payment-requested";
  return order.version >= 2n ? "stock-reserved" : "placed";
}

/** An order recovery may look at: not settled, and unchanged for at least `olderThanMs`. */
export function isStuck(order: Order, nowMs: number, olderThanMs: number): boolean {
  if (order.state !== OrderState.PENDING && order.state !== OrderState.AWAITING_PAYMENT) return false;
  return lastChangeMs(order) + olderThanMs <= nowMs;
}

export function lastChangeMs(order: Order): number {
  const time = order.updateTime ?? order.createTime;
  return time === undefined ? 0 : Number(time.seconds) * 1000 + Math.floor(time.nanos / 1_000_000);
}

const notCharged = "You were not charged.";

/**
 * The rule, with Stripe as the truth about the payment: succeeded → commit the stock and mark paid; waiting for
 * 3-D Secure → wait until the stock hold has run out, then give up; canceled, failed, never confirmed or never
 * created → release the stock, cancel the intent and cancel the order with a reason a customer can read.
 */
export function decideRecovery(input: {
  order: Order;
  /** undefined: no PaymentIntent exists for the order. */
  intent: { status: IntentStatus; message?: string } | undefined;
  nowMs: number;
  holdMs: number;
  /** The inventory said the order's hold expired: waiting for 3-D Secure is over, whatever the clock says. */
  holdExpired?: boolean;
}): RecoveryDecision {
  const { intent } = input;
  if (intent === undefined) {
    return {
      kind: "compensate",
      action: "no payment was started: stock released, order cancelled",
      reason: `Checkout was interrupted before the payment started. ${notCharged}`,
    };
  }
  switch (intent.status) {
    case "succeeded":
      return { kind: "commit", action: "payment succeeded at Stripe: stock committed, order paid" };
    case "processing":
      return { kind: "wait", action: "Stripe is still processing the payment" };
    case "requires_action": {
      const heldUntil = lastChangeMs(input.order) + input.holdMs;
      if (!input.holdExpired && input.nowMs < heldUntil) {
        return {
          kind: "wait",
          action: "waiting for the customer's 3-D Secure authentication; the stock is still held",
        };
      }
      return {
        kind: "compensate",
        action: "3-D Secure not completed before the hold ran out: intent canceled, stock released, order cancelled",
        reason: `The card's 3-D Secure authentication was not completed in time, so the items were released. ${notCharged}`,
      };
    }
    case "failed":
      return {
        kind: "compensate",
        action: "payment failed at Stripe: intent canceled, stock released, order cancelled",
        reason: `The payment did not go through: ${intent.message ?? "the card was declined."} ${notCharged}`,
      };
    case "canceled":
      return {
        kind: "compensate",
        action: "payment canceled at Stripe: stock released, order cancelled",
        reason: `The payment was canceled. ${notCharged}`,
      };
    case "unconfirmed":
      return {
        kind: "compensate",
        action: "payment never confirmed: intent canceled, stock released, order cancelled",
        reason: `Checkout was interrupted before the payment was confirmed. ${notCharged}`,
      };
  }
}
