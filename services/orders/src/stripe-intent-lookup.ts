import type { Money } from "@shop/contracts/shop/common/v1/money_pb.js";
import type Stripe from "stripe";
import { paymentKeys } from "./domain/order-ids.js";
import type { IntentStatus } from "./domain/recovery-rules.js";

/** An order's PaymentIntent as Stripe has it now. */
export interface IntentTruth {
  intentId: string;
  clientSecret: string;
  status: IntentStatus;
  nextActionUrl: string;
  /** Why the last attempt failed, when it did. */
  message?: string;
}

/** How recovery asks Stripe what really happened to an order's payment, and undoes it. */
export interface IntentLookup {
  /** The intent by its id. */
  retrieve(intentId: string): Promise<IntentTruth>;
  /**
   * The intent the checkout created (or would have) for the order: created again with the same idempotency key and
   * parameters, Stripe answers with the first intent instead of making a second one; then read as it is now.
   */
  findByOrder(orderId: string, amount: Money): Promise<IntentTruth>;
  /** Cancels the intent unless it already ended; answers with how it ended (succeeded means: it was paid after all). */
  cancel(orderId: string, intentId: string): Promise<IntentTruth>;
  /** Refunds a succeeded intent in full, once per order. */
  refund(orderId: string, intentId: string): Promise<void>;
}

function truthOf(intent: Stripe.PaymentIntent): IntentTruth {
  const base = {
    intentId: intent.id,
    clientSecret: intent.client_secret ?? "",
    nextActionUrl: intent.next_action?.redirect_to_url?.url ?? "",
  };
  switch (intent.status) {
    case "succeeded":
      return { ...base, status: "succeeded" };
    case "processing":
      return { ...base, status: "processing" };
    case "requires_action":
      return { ...base, status: "requires_action" };
    case "canceled":
      return { ...base, status: "canceled" };
    case "requires_capture":
      // Not used by checkout (automatic capture); treated as the money being there.
      return { ...base, status: "succeeded" };
    default:
      return intent.last_payment_error
        ? { ...base, status: "failed", message: intent.last_payment_error.message ?? "the card was declined." }
        : { ...base, status: "unconfirmed" };
  }
}

const isStripeError = (err: unknown, type: string) => (err as { type?: string } | undefined)?.type === type;

/** The IntentLookup on the Stripe SDK; `findByOrder` uses the checkout's own create parameters and key. */
export function createStripeIntentLookup(stripe: Stripe): IntentLookup {
  const retrieve = async (intentId: string) => truthOf(await stripe.paymentIntents.retrieve(intentId));
  return {
    retrieve,
    async findByOrder(orderId, amount) {
      // Must match stripe-payments' createIntent exactly, or Stripe answers idempotency_error.
      const created = await stripe.paymentIntents.create(
        {
          amount: Number(amount.amountMinor),
          currency: amount.currencyCode.toLowerCase(),
          metadata: { order_id: orderId },
        },
        { idempotencyKey: paymentKeys.create(orderId) },
      );
      return retrieve(created.id);
    },
    async cancel(orderId, intentId) {
      try {
        return truthOf(
          await stripe.paymentIntents.cancel(intentId, {}, { idempotencyKey: paymentKeys.cancel(orderId) }),
        );
      } catch (err) {
        if (!isStripeError(err, "StripeInvalidRequestError")) throw err;
        return retrieve(intentId);
      }
    },
    async refund(orderId, intentId) {
      await stripe.refunds.create({ payment_intent: intentId }, { idempotencyKey: `${orderId}:recovery-refund` });
    },
  };
}
