import type { Money } from "@shop/contracts/shop/common/v1/money_pb.js";
import Stripe from "stripe";
import { paymentKeys } from "./domain/order-ids.js";

/** How a confirmation ended, in the saga's terms. */
export type PaymentOutcome =
  | { status: "succeeded" }
  | { status: "requires_action"; nextActionUrl: string }
  | { status: "failed"; message: string };

/** The payment calls the saga makes; each is keyed by the order, so a retried step never charges twice. */
export interface Payments {
  createIntent(orderId: string, amount: Money): Promise<{ intentId: string; clientSecret: string }>;
  confirm(orderId: string, intentId: string, paymentMethod: string): Promise<PaymentOutcome>;
  /**
   * Cancels an intent that has not succeeded; one that already ended is left as it is. Resolves to "succeeded" when
   * the customer's payment went through before the cancel (it must be refunded, not forgotten), else "canceled".
   */
  cancel(orderId: string, intentId: string): Promise<"canceled" | "succeeded">;
  /** Refunds `amount` of a succeeded intent; the same `idempotencyKey` answers with the first refund, never a second. */
  refund(orderId: string, intentId: string, amount: Money, idempotencyKey: string): Promise<{ refundId: string }>;
}

/** The Stripe SDK pointed at `apiUrl` (Stripe itself, or the emulator), exactly as it would reach Stripe. */
export function createStripeClient(secretKey: string, apiUrl: string): Stripe {
  const url = new URL(apiUrl);
  const protocol = url.protocol === "http:" ? "http" : "https";
  return new Stripe(secretKey, {
    host: url.hostname,
    port: url.port === "" ? (protocol === "http" ? 80 : 443) : Number(url.port),
    protocol,
    maxNetworkRetries: 2,
  });
}

const isStripeError = (err: unknown, type: string) => (err as { type?: string } | undefined)?.type === type;

export function createStripePayments(stripe: Stripe): Payments {
  return {
    async createIntent(orderId, amount) {
      const intent = await stripe.paymentIntents.create(
        {
          amount: Number(amount.amountMinor),
          currency: amount.currencyCode.toLowerCase(),
          metadata: { order_id: orderId },
        },
        { idempotencyKey: paymentKeys.create(orderId) },
      );
      return { intentId: intent.id, clientSecret: intent.client_secret ?? "" };
    },

    async confirm(orderId, intentId, paymentMethod) {
      try {
        const intent = await stripe.paymentIntents.confirm(
          intentId,
          { payment_method: paymentMethod },
          { idempotencyKey: paymentKeys.confirm(orderId) },
        );
        if (intent.status === "succeeded") return { status: "succeeded" };
        if (intent.status === "requires_action") {
          return { status: "requires_action", nextActionUrl: intent.next_action?.redirect_to_url?.url ?? "" };
        }
        return { status: "failed", message: intent.last_payment_error?.message ?? `the payment is ${intent.status}` };
      } catch (err) {
        if (isStripeError(err, "StripeCardError")) return { status: "failed", message: (err as Error).message };
        // The order was cancelled while its checkout ran, which cancelled this intent first.
        if (isStripeError(err, "StripeInvalidRequestError")) {
          const intent = await stripe.paymentIntents.retrieve(intentId);
          if (intent.status === "canceled") return { status: "failed", message: "The order was cancelled." };
        }
        throw err;
      }
    },

    async cancel(orderId, intentId) {
      try {
        await stripe.paymentIntents.cancel(intentId, {}, { idempotencyKey: paymentKeys.cancel(orderId) });
        return "canceled";
      } catch (err) {
        // Already canceled or succeeded: nothing left to cancel here (a succeeded one is refunded, not canceled).
        if (!isStripeError(err, "StripeInvalidRequestError")) throw err;
      }
      const intent = await stripe.paymentIntents.retrieve(intentId);
      return intent.status === "succeeded" ? "succeeded" : "canceled";
    },

    async refund(orderId, intentId, amount, idempotencyKey) {
      const refund = await stripe.refunds.create(
        { payment_intent: intentId, amount: Number(amount.amountMinor), metadata: { order_id: orderId } },
        { idempotencyKey },
      );
      return { refundId: refund.id };
    },
  };
}
