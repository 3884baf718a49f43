import { refundableAmount } from "./amount-rules.js";
import type { RuleContext } from "./payment-intent-machine.js";
import { stripeErrors } from "./stripe-error.js";
import type { ChargeObject, Metadata, PaymentIntentObject, RefundObject, RefundReason } from "./stripe-objects.js";

/** A refund and the charge it changed. */
export interface RefundChange {
  refund: RefundObject;
  charge: ChargeObject;
}

/**
 * Refunds a succeeded intent's charge, by `amount` or by whatever is left: the sum of refunds never goes above what
 * was captured. Refunds succeed at once (cards in test mode do).
 */
export function refundCharge(
  intent: PaymentIntentObject,
  charge: ChargeObject | undefined,
  request: { amount: number | undefined; reason: RefundReason | null; metadata: Metadata },
  ctx: RuleContext,
): RefundChange {
  if (intent.status !== "succeeded" || charge === undefined) {
    throw stripeErrors.unexpectedState(
      `PaymentIntent ${intent.id} has status ${intent.status} and no captured charge to refund; ` +
        "cancel it instead if it is not finished.",
      "payment_intent",
    );
  }
  const left = refundableAmount(charge);
  if (left === 0) {
    throw stripeErrors.refundRefused(
      "charge_already_refunded",
      `Charge ${charge.id} of PaymentIntent ${intent.id} has already been refunded in full.`,
    );
  }
  const amount = request.amount ?? left;
  if (amount < 1) throw stripeErrors.integerBelow("amount", 1);
  if (amount > left) {
    throw stripeErrors.refundRefused(
      "amount_too_large",
      `A refund of ${amount} is more than the ${left} still refundable on charge ${charge.id}.`,
      "amount",
    );
  }
  const refunded = charge.amount_refunded + amount;
  return {
    refund: {
      id: ctx.newId("re"),
      object: "refund",
      amount,
      balance_transaction: null,
      charge: charge.id,
      created: ctx.now,
      currency: charge.currency,
      metadata: request.metadata,
      payment_intent: intent.id,
      reason: request.reason,
      receipt_number: null,
      status: "succeeded",
    },
    charge: { ...charge, amount_refunded: refunded, refunded: refunded === charge.amount },
  };
}
