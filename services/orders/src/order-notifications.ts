import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { EventMeta } from "@shop/contracts/shop/events/v1/event_pb.js";
import {
  OrderFulfilledSchema,
  OrderPaidSchema,
  OrderRefundedSchema,
  PaymentFailedSchema,
} from "@shop/contracts/shop/orders/v1/events_pb.js";
import type { Order } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { type EventConsumer, type EventConsumerOptions, type Logger, on, startEventConsumer } from "@shop/platform";
import { composeOrderEmail, type OrderEmailFacts } from "./domain/order-email.js";
import type { MailOutbox } from "./store/mail-outbox.js";

/** The durable consumer's name on the ORDERS stream (namespaced by the platform); replicas share it. */
export const notificationsConsumerName = "orders-notifications";

export interface OrderNotificationsOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  logger: Logger;
  outbox: MailOutbox;
  /** The From header, e.g. "Shop <orders@shop.localhost>". */
  from: string;
  /** The order as of now (lines, totals, email); undefined when it does not exist (yet). */
  loadOrder(orderId: string): Promise<Order | undefined>;
  /** The service's metrics registry (`platform.metrics`), for the consumer's counts and lag. */
  metrics?: EventConsumerOptions["metrics"];
  /** Durable consumer name. Default `orders-notifications`; tests replay the stream under another name. */
  consumerName?: string;
  /** Where a new durable consumer starts. Default "new": the stream's end. */
  deliverPolicy?: "all" | "new";
  /** Delay before each redelivery after a failed send. Default: the platform consumer's. */
  backoffMs?: number[];
}

/**
 * Emails customers about their orders from the ORDERS stream: confirmation (OrderPaid), payment failed
 * (PaymentFailed, after which the saga cancels the order), shipped (OrderFulfilled), refunded (OrderRefunded). A durable
 * consumer acks each event once its mail is handed over; a redelivered event finds its mail id (event id + kind)
 * already sent and sends nothing. A new consumer starts at the stream's end, so a first deployment does not email
 * customers about past orders.
 */
export async function startOrderNotifications(options: OrderNotificationsOptions): Promise<EventConsumer> {
  const { outbox, logger } = options;

  const notify = async (meta: EventMeta | undefined, orderId: string, facts: OrderEmailFacts) => {
    const eventId = meta?.eventId ?? "";
    if (eventId === "") throw new Error(`${facts.kind} event of ${orderId} has no event id`);
    const order = await options.loadOrder(orderId);
    // Thrown, so the event is redelivered with backoff (and dead-lettered if the order never shows up).
    if (order === undefined) throw new Error(`order ${orderId} of event ${eventId} is not readable yet`);
    if (order.email === "") {
      logger.warn({ orderId, kind: facts.kind }, "order has no email address: nothing to send");
      return;
    }
    const email = composeOrderEmail(order, facts);
    const outcome = await outbox.sendOnce({
      id: `${eventId}/${facts.kind}`,
      from: options.from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      date: meta?.occurTime === undefined ? new Date() : timestampDate(meta.occurTime),
    });
    logger.info({ orderId, eventId, kind: facts.kind, outcome }, "order email");
  };

  return startEventConsumer({
    js: options.js,
    jsm: options.jsm,
    metrics: options.metrics,
    namespace: options.namespace,
    logger,
    name: options.consumerName ?? notificationsConsumerName,
    deliverPolicy: options.deliverPolicy ?? "new",
    backoffMs: options.backoffMs,
    handlers: [
      on(OrderPaidSchema, (event) => notify(event.meta, event.orderId, { kind: "order-confirmation" })),
      on(PaymentFailedSchema, (event) =>
        notify(event.meta, event.orderId, { kind: "payment-failed", failureMessage: event.failureMessage }),
      ),
      on(OrderFulfilledSchema, (event) =>
        notify(event.meta, event.orderId, {
          kind: "shipped",
          trackingNumber: event.trackingNumber,
          carrier: event.carrier,
        }),
      ),
      on(OrderRefundedSchema, (event) =>
        notify(event.meta, event.orderId, { kind: "refunded", amount: event.amount, reason: event.reason }),
      ),
    ],
  });
}
