import { stripeErrors } from "./domain/stripe-error.js";
import type { FormParams } from "./form-params.js";
import type { IdempotencyStore } from "./idempotency-store.js";
import { readParams } from "./param-readers.js";
import type { PaymentStore } from "./payment-store.js";
import type { WebhookDispatcher } from "./webhook-dispatcher.js";

/** What the test-only routes read. */
export interface EmulatorRoutesOptions {
  store: PaymentStore;
  idempotency: IdempotencyStore;
  dispatcher: WebhookDispatcher;
}

/** Totals since start: what executed (replays count nothing), so a test can assert "0 double charges". */
export function emulatorStats({ store, idempotency, dispatcher }: EmulatorRoutesOptions) {
  const c = store.counters;
  const deliveries = dispatcher.deliveries();
  const byDeliveryStatus = { pending: 0, succeeded: 0, failed: 0 };
  for (const delivery of deliveries) byDeliveryStatus[delivery.status]++;
  const keys = idempotency.counts();
  return {
    payment_intents: {
      created: c.intentsCreated,
      confirmations: c.confirmations,
      canceled: c.cancellations,
      by_status: store.statusCounts(),
    },
    charges: {
      succeeded: c.chargesSucceeded,
      failed: c.chargesFailed,
      captured: c.captures,
      amount_captured: c.amountCaptured,
    },
    refunds: { created: c.refunds, amount_refunded: c.amountRefunded },
    authentications: { completed: c.authenticationsCompleted, failed: c.authenticationsFailed },
    idempotency: { keys: keys.keys, replays: keys.replays, mismatches: keys.mismatches, in_use: keys.inUse },
    webhooks: {
      events: store.events.size,
      deliveries: byDeliveryStatus,
      attempts: deliveries.reduce((sum, delivery) => sum + delivery.attempts.length, 0),
    },
  };
}

const list = (data: unknown[]) => ({ object: "list", data, has_more: false });

/**
 * The routes under `/_emulator/` (not Stripe's; they need the secret key too):
 * - `GET /_emulator/stats`: counts of intents, confirmations, charges, captures, refunds, keys and webhooks;
 * - `GET /_emulator/payment_intents?status=…&metadata[order_id]=…`: the intents, filtered;
 * - `GET /_emulator/webhook_deliveries?status=…&event_type=…&event_id=…`: each delivery with its attempts;
 * - `POST /_emulator/webhook_deliveries/<id>/redeliver`: attempt again now, same event id.
 * Returns undefined for any other path.
 */
export function createEmulatorRoutes(options: EmulatorRoutesOptions) {
  const { store, dispatcher } = options;
  return (method: string, path: string, query: FormParams): object | undefined => {
    const params = readParams(query);
    if (method === "GET" && path === "/_emulator/stats") {
      params.finish();
      return emulatorStats(options);
    }
    if (method === "GET" && path === "/_emulator/payment_intents") {
      const status = params.string("status");
      const metadata = params.metadata() ?? {};
      params.finish();
      const matches = [...store.intents.values()].filter(
        (intent) =>
          (status === undefined || intent.status === status) &&
          Object.entries(metadata).every(([key, value]) => intent.metadata[key] === value),
      );
      return list(matches);
    }
    if (method === "GET" && path === "/_emulator/webhook_deliveries") {
      const status = params.oneOf("status", ["pending", "succeeded", "failed"] as const);
      const eventType = params.string("event_type");
      const eventId = params.string("event_id");
      params.finish();
      return list(
        dispatcher
          .deliveries()
          .filter(
            (delivery) =>
              (status === undefined || delivery.status === status) &&
              (eventType === undefined || delivery.event_type === eventType) &&
              (eventId === undefined || delivery.event_id === eventId),
          ),
      );
    }
    const redeliver = /^\/_emulator\/webhook_deliveries\/([A-Za-z0-9_]+)\/redeliver$/.exec(path);
    if (method === "POST" && redeliver !== null) {
      params.finish();
      const delivery = dispatcher.redeliver(redeliver[1] as string);
      if (delivery === undefined) throw stripeErrors.notFound("webhook delivery", redeliver[1] as string);
      return delivery;
    }
    return undefined;
  };
}
