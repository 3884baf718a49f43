import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { ReservationChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { type EventConsumer, type EventConsumerOptions, type Logger, on, startEventConsumer } from "@shop/platform";
import { reservationIdOf } from "./domain/order-ids.js";

/** The durable consumer's name on the INVENTORY stream (namespaced by the platform); replicas share it. */
export const holdExpiryConsumerName = "orders-hold-expiry";

/**
 * Follows the inventory's ReservationChanged events and, for a hold of an order that the inventory expired, settles
 * that order at once (`settleExpiredHold`: an order awaiting 3-D Secure is cancelled and its intent canceled) instead
 * of at the next recovery pass. Every other reservation change is acknowledged and skipped. The handler is idempotent
 * (a settled order is left as it is), so a redelivered event changes nothing; a failure is retried with the
 * platform consumer's backoff. A new consumer starts at the stream's end: holds that expired before the first
 * deployment are the recovery passes' to find.
 */
export function startHoldExpiryConsumer(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  logger: Logger;
  /** The service's metrics registry (`platform.metrics`), for the consumer's counts and lag. */
  metrics?: EventConsumerOptions["metrics"];
  settleExpiredHold(orderId: string): Promise<unknown>;
}): Promise<EventConsumer> {
  return startEventConsumer({
    js: options.js,
    jsm: options.jsm,
    metrics: options.metrics,
    namespace: options.namespace,
    logger: options.logger,
    name: holdExpiryConsumerName,
    deliverPolicy: "new",
    handlers: [
      on(ReservationChangedSchema, async (event) => {
        const reservation = event.reservation;
        if (reservation?.state !== ReservationState.EXPIRED) return;
        // Checkout reserves under the order's own id with the order id as reference; other holds are not orders'.
        const orderId = reservation.reference;
        if (orderId === "" || reservationIdOf(orderId) !== reservation.id) return;
        await options.settleExpiredHold(orderId);
      }),
    ],
  });
}
