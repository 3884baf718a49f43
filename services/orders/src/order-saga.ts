import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { InventoryService } from "@shop/contracts/shop/inventory/v1/inventory_service_pb.js";
import {
  OrderCancelledSchema,
  OrderPaidSchema,
  OrderPlacedSchema,
  PaymentFailedSchema,
  PaymentRequestedSchema,
  PaymentSucceededSchema,
  StockReservedSchema,
} from "@shop/contracts/shop/orders/v1/events_pb.js";
import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { ExhaustedError, newEventMeta } from "@shop/platform";
import { orderEventId, reservationIdOf } from "./domain/order-ids.js";
import { applyOrderEvent, isSettled, type OrderEvent } from "./domain/order-state.js";
import { recordedStep } from "./domain/recovery-rules.js";
import type { OrderEventStore, StoredOrder } from "./store/order-event-store.js";
import type { PaymentOutcome, Payments } from "./stripe-payments.js";

/** What the saga works with: the order's stream, the inventory (as this service) and the payment provider. */
export interface SagaPorts {
  store: OrderEventStore;
  inventory: Client<typeof InventoryService>;
  payments: Payments;
  /** How long stock stays held while the customer completes 3-D Secure. */
  holdMs: number;
  /** Test-only: called after each step is done (fault-injection.ts kills the process there). Default: none. */
  afterStep?: (step: SagaStep) => void;
}

/** The points between checkout's steps, in order; crash tests stop the process at each. */
export const sagaSteps = [
  "placed",
  "stock-reserved",
  "intent-created",
  "intent-confirmed",
  "payment-requested",
  "stock-committed",
  "payment-succeeded",
] as const;
export type SagaStep = (typeof sagaSteps)[number];

/** A step refused: the order ends cancelled with `reason`, in words a customer can read. */
class CheckoutRefusal extends Error {
  override name = "CheckoutRefusal" as const;
  constructor(
    readonly reason: string,
    readonly refusal?: Error,
  ) {
    super(reason);
  }
}

/** One order being advanced: its state, and the sequence its next append must find on the subject. */
export class OrderCursor {
  constructor(
    private readonly store: OrderEventStore,
    public current: StoredOrder,
  ) {}
  get order(): Order {
    return this.current.order;
  }
  /** Appends the order's next event; another writer in between → OrderConflictError, nothing written. */
  async append(event: OrderEvent): Promise<void> {
    const lastSequence = await this.store.append(event, this.current.lastSequence);
    this.current = {
      order: applyOrderEvent(this.current.order, event),
      lastSequence,
      paymentRecorded: this.current.paymentRecorded || event.$typeName === PaymentSucceededSchema.typeName,
    };
  }
  meta() {
    const version = this.order.version + 1n;
    return newEventMeta(this.order.id, version, { eventId: orderEventId(this.order.id, version) });
  }
}

// The steps, each next to its compensation. A refusal in a step runs the compensations of the steps before it in
// reverse, then cancels the order with the refusal's reason.

async function reserveStock(ports: SagaPorts, cursor: OrderCursor): Promise<void> {
  const reservationId = reservationIdOf(cursor.order.id);
  try {
    await ports.inventory.reserve({
      reservationId,
      lines: cursor.order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })),
      ttl: durationFromMs(ports.holdMs),
      reference: cursor.order.id,
    });
  } catch (err) {
    const error = ConnectError.from(err);
    if (error.code !== Code.ResourceExhausted) throw err;
    const sku = /stock of (\S+?):/.exec(error.rawMessage)?.[1] ?? "an item";
    const reason = `${sku} is out of stock`;
    throw new CheckoutRefusal(
      `${reason}; nothing was charged`,
      new ExhaustedError(`${reason}: nothing was reserved or charged`),
    );
  }
  await cursor.append(create(StockReservedSchema, { meta: cursor.meta(), orderId: cursor.order.id, reservationId }));
  ports.afterStep?.("stock-reserved");
}
export async function releaseStock(
  ports: SagaPorts,
  cursor: Pick<OrderCursor, "order">,
  reason: string,
): Promise<void> {
  await ports.inventory.release({ reservationId: reservationIdOf(cursor.order.id), reason: reason.slice(0, 256) });
}

async function requestPayment(ports: SagaPorts, cursor: OrderCursor, paymentMethod: string): Promise<PaymentOutcome> {
  const amount = cursor.order.total ?? cursor.order.subtotal;
  if (amount === undefined) throw new Error(`order ${cursor.order.id} has no total`);
  const intent = await ports.payments.createIntent(cursor.order.id, amount);
  ports.afterStep?.("intent-created");
  const outcome = await ports.payments.confirm(cursor.order.id, intent.intentId, paymentMethod);
  ports.afterStep?.("intent-confirmed");
  await cursor.append(
    create(PaymentRequestedSchema, {
      meta: cursor.meta(),
      orderId: cursor.order.id,
      paymentIntentId: intent.intentId,
      clientSecret: intent.clientSecret,
      amount,
      nextActionUrl: outcome.status === "requires_action" ? outcome.nextActionUrl : "",
    }),
  );
  ports.afterStep?.("payment-requested");
  if (outcome.status === "failed") {
    await cursor.append(
      create(PaymentFailedSchema, {
        meta: cursor.meta(),
        orderId: cursor.order.id,
        paymentIntentId: intent.intentId,
        failureMessage: outcome.message,
      }),
    );
    throw new CheckoutRefusal(`The payment did not go through: ${outcome.message} You were not charged.`);
  }
  return outcome;
}
export async function cancelPayment(ports: SagaPorts, cursor: OrderCursor): Promise<"canceled" | "succeeded"> {
  if (cursor.order.paymentIntentId === "") return "canceled";
  return ports.payments.cancel(cursor.order.id, cursor.order.paymentIntentId);
}

async function commitStock(ports: SagaPorts, cursor: OrderCursor): Promise<void> {
  await ports.inventory.commit({ reservationId: reservationIdOf(cursor.order.id) });
  ports.afterStep?.("stock-committed");
  const { id, paymentIntentId, total } = cursor.order;
  if (!cursor.current.paymentRecorded) {
    await cursor.append(
      create(PaymentSucceededSchema, { meta: cursor.meta(), orderId: id, paymentIntentId, amount: total }),
    );
  }
  ports.afterStep?.("payment-succeeded");
  await cursor.append(create(OrderPaidSchema, { meta: cursor.meta(), orderId: id }));
}

/** Runs the compensations given (latest first), then cancels the order with the reason. */
async function compensate(
  ports: SagaPorts,
  cursor: OrderCursor,
  reason: string,
  compensations: Array<(ports: SagaPorts, cursor: OrderCursor, reason: string) => Promise<unknown>>,
): Promise<void> {
  for (const undo of compensations.reverse()) await undo(ports, cursor, reason);
  await cursor.append(create(OrderCancelledSchema, { meta: cursor.meta(), orderId: cursor.order.id, reason }));
}

/**
 * Checkout: place → reserve stock → create and confirm the PaymentIntent → commit the stock → paid. A card that
 * needs 3-D Secure leaves the order awaiting payment (the webhook settles it); a refusal compensates and cancels.
 * Out of stock is also thrown to the caller as ResourceExhausted, after the order was cancelled.
 */
export async function runCheckout(ports: SagaPorts, placed: Order, requestId: string, paymentMethod: string) {
  const meta = newEventMeta(placed.id, 1n, { eventId: orderEventId(placed.id, 1n) });
  const event = create(OrderPlacedSchema, { meta, order: placed, requestId });
  const cursor = new OrderCursor(ports.store, { order: applyOrderEvent(undefined, event), lastSequence: 0 });
  await cursor.append(event);
  ports.afterStep?.("placed");
  return advanceCheckout(ports, cursor, paymentMethod);
}

/** Checkout stopped before its payment started (a step failed, e.g. the inventory was unavailable): still PENDING. */
export function isStalledBeforePayment(order: Order): boolean {
  return order.state === OrderState.PENDING && recordedStep(order) !== "payment-requested";
}

/**
 * Resumes a checkout that stopped before its payment started, for a retry of its CreateOrder: the steps its events do
 * not record yet run, with the same outcomes as in a first call. The caller makes sure no one else drives the order.
 */
export async function continueCheckout(ports: SagaPorts, stored: StoredOrder, paymentMethod: string): Promise<Order> {
  const cursor = new OrderCursor(ports.store, stored);
  if (!isStalledBeforePayment(cursor.order)) return cursor.order;
  return advanceCheckout(ports, cursor, paymentMethod);
}

/** The steps after OrderPlaced, skipping the stock reservation when the order already records it. */
async function advanceCheckout(ports: SagaPorts, cursor: OrderCursor, paymentMethod: string): Promise<Order> {
  const done: Array<(ports: SagaPorts, cursor: OrderCursor, reason: string) => Promise<unknown>> = [];
  try {
    if (recordedStep(cursor.order) === "placed") await reserveStock(ports, cursor);
    done.push(releaseStock);
    done.push(cancelPayment);
    const outcome = await requestPayment(ports, cursor, paymentMethod);
    if (outcome.status === "requires_action") return cursor.order;
    await commitStock(ports, cursor);
    return cursor.order;
  } catch (err) {
    if (!(err instanceof CheckoutRefusal)) throw err;
    await compensate(ports, cursor, err.reason, done);
    if (err.refusal) throw err.refusal;
    return cursor.order;
  }
}

/**
 * Settles an order awaiting payment from what Stripe says happened (webhook or recovery): succeeded → commit the
 * stock → paid; failed → cancel the intent, release the stock → cancelled. A settled order is left as it is.
 */
export async function settlePayment(ports: SagaPorts, stored: StoredOrder, outcome: PaymentOutcome): Promise<Order> {
  const cursor = new OrderCursor(ports.store, stored);
  if (isSettled(cursor.order) || outcome.status === "requires_action") return cursor.order;
  if (outcome.status === "succeeded") {
    await commitStock(ports, cursor);
    return cursor.order;
  }
  const reason = `The payment did not go through: ${outcome.message} You were not charged.`;
  await cursor.append(
    create(PaymentFailedSchema, {
      meta: cursor.meta(),
      orderId: cursor.order.id,
      paymentIntentId: cursor.order.paymentIntentId,
      failureMessage: outcome.message,
    }),
  );
  await compensate(ports, cursor, reason, [releaseStock, cancelPayment]);
  return cursor.order;
}

/** The payment recovery found at Stripe for an order, and how to give the money back. */
export interface FoundPayment {
  intentId: string;
  clientSecret: string;
  nextActionUrl: string;
  refund(): Promise<void>;
}

/**
 * Recovery's way through the same steps, for an order checkout left behind (domain/recovery-rules decided what to
 * do from what Stripe says): an intent the order never recorded is recorded first; "commit" commits the stock and
 * marks the order paid — or, when the hold ran out before, refunds the payment and cancels; "compensate" cancels the
 * intent, releases the stock (a hold never made is fine) and cancels with the decision's reason.
 */
export async function resumeCheckout(
  ports: SagaPorts,
  stored: StoredOrder,
  decision: { kind: "commit" } | { kind: "compensate"; reason: string },
  payment: FoundPayment | undefined,
): Promise<Order> {
  const cursor = new OrderCursor(ports.store, stored);
  if (isSettled(cursor.order)) return cursor.order;
  const amount = cursor.order.total ?? cursor.order.subtotal;
  if (payment !== undefined && cursor.order.paymentIntentId === "") {
    await cursor.append(
      create(PaymentRequestedSchema, {
        meta: cursor.meta(),
        orderId: cursor.order.id,
        paymentIntentId: payment.intentId,
        clientSecret: payment.clientSecret,
        amount,
        nextActionUrl: payment.nextActionUrl,
      }),
    );
  }
  if (decision.kind === "commit") {
    try {
      await commitStock(ports, cursor);
    } catch (err) {
      const code = ConnectError.from(err).code;
      if (payment === undefined || (code !== Code.FailedPrecondition && code !== Code.NotFound)) throw err;
      // Paid after the hold had run out (the units may be sold to someone else by now): the money goes back.
      await payment.refund();
      const reason = "The items were released before the payment completed, so the payment was refunded in full.";
      await cursor.append(create(OrderCancelledSchema, { meta: cursor.meta(), orderId: cursor.order.id, reason }));
    }
    return cursor.order;
  }
  await compensate(ports, cursor, decision.reason, [releaseHeldStock, cancelPayment]);
  return cursor.order;
}
/** releaseStock, where no hold at all is fine too: the process may have died before it reserved. */
async function releaseHeldStock(ports: SagaPorts, cursor: OrderCursor, reason: string): Promise<void> {
  try {
    await releaseStock(ports, cursor, reason);
  } catch (err) {
    if (ConnectError.from(err).code !== Code.NotFound) throw err;
  }
}
