import type { AnyRequest, AnyResponse, Logger } from "@shop/platform";
import type Stripe from "stripe";
import { isSettled } from "./domain/order-state.js";
import { type SagaPorts, settlePayment } from "./order-saga.js";
import { isOrderConflict, type StoredOrder } from "./store/order-event-store.js";
import type { PaymentOutcome } from "./stripe-payments.js";

type Reply = AnyResponse & {
  writeHead(status: number, headers?: Record<string, string>): { end(body?: string): void };
};

/** Reads the body as sent, refusing more than `maxBytes`; undefined when it was too large. */
async function readRawBody(req: AnyRequest, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** What a payment_intent event says about the order it names. */
function outcomeOf(event: Stripe.Event): { orderId: string; intentId: string; outcome: PaymentOutcome } | undefined {
  if (event.type !== "payment_intent.succeeded" && event.type !== "payment_intent.payment_failed") return undefined;
  const intent = event.data.object;
  const orderId = intent.metadata?.order_id ?? "";
  if (orderId === "") return undefined;
  const outcome: PaymentOutcome =
    event.type === "payment_intent.succeeded"
      ? { status: "succeeded" }
      : { status: "failed", message: intent.last_payment_error?.message ?? "The card was declined." };
  return { orderId, intentId: intent.id, outcome };
}

/**
 * `POST /webhooks/stripe`: Stripe's signed events, verified on the raw bytes with the SDK's helper (unsigned, wrongly
 * signed or older than its tolerance → 400, nothing changes). It settles orders waiting for the customer (3-D Secure);
 * a replayed event finds its order already settled and changes nothing; an order whose payment is not recorded yet
 * answers 409 so Stripe delivers again later.
 */
export function stripeWebhookRoute(options: {
  stripe: Stripe;
  secret: string;
  maxBytes: number;
  ports: SagaPorts;
  /**
   * Reads an order as of its latest event: the read model, which answers from memory when it is current (one look at
   * the subject's last sequence) instead of replaying the subject. Every payment sends at least one webhook.
   */
  readOrder: (orderId: string) => Promise<StoredOrder | undefined>;
  logger: Logger;
}) {
  const { stripe, secret, ports, logger } = options;
  return async (req: AnyRequest, response: AnyResponse): Promise<void> => {
    const res = response as Reply;
    const reply = (status: number, message: string) =>
      void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ message }));
    if (req.method !== "POST") return reply(405, "POST only");
    const raw = await readRawBody(req, options.maxBytes);
    if (raw === undefined) return reply(413, `body over ${options.maxBytes} bytes`);
    const signature = req.headers["stripe-signature"];
    let event: Stripe.Event;
    try {
      if (typeof signature !== "string") throw new Error("no Stripe-Signature header");
      event = stripe.webhooks.constructEvent(raw, signature, secret);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "stripe webhook refused");
      return reply(400, "signature verification failed");
    }
    const named = outcomeOf(event);
    if (named === undefined) return reply(200, "ignored");
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await options.readOrder(named.orderId);
      if (stored === undefined || stored.order.paymentIntentId !== named.intentId) {
        // Not (yet) recorded as this order's payment: the checkout is still running, or it is no order of ours.
        return reply(stored === undefined ? 200 : 409, "no order awaiting this payment");
      }
      if (!isSettled(stored.order) && stored.order.paymentNextActionUrl === "") {
        // The checkout that confirmed this payment had its outcome at once and settles the order itself (recovery
        // does, if that process stopped): settling it here too would race it and record the outcome twice.
        return reply(200, "the checkout settles this payment");
      }
      try {
        await settlePayment(ports, stored, named.outcome);
        return reply(200, "ok");
      } catch (err) {
        if (!isOrderConflict(err)) throw err;
      }
    }
    reply(409, "the order kept changing; deliver again");
  };
}
