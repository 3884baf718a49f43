import { create, type DescMessage } from "@bufbuild/protobuf";
import type { JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import { OrderPaidSchema, PaymentSucceededSchema } from "@shop/contracts/shop/orders/v1/events_pb.js";
import type { Order } from "@shop/contracts/shop/orders/v1/order_pb.js";
import {
  decodeEvent,
  type EventPublisher,
  eventContract,
  eventSubject,
  eventTypeHeader,
  namespacedStream,
} from "@shop/platform";
import { applyOrderEvent, type OrderEvent, orderEventSchemas } from "../domain/order-state.js";

/** Another writer advanced the order since it was read: re-read it and decide again. */
export class OrderConflictError extends Error {
  override name = "OrderConflictError" as const;
}

export function isOrderConflict(err: unknown): err is OrderConflictError {
  return err instanceof Error && err.name === "OrderConflictError";
}

/** An order as its subject holds it, and the stream sequence of its last event (the next append's expectation). */
export interface StoredOrder {
  order: Order;
  lastSequence: number;
  /**
   * PaymentSucceeded is on the subject. It changes no state (OrderPaid follows it), so a process that died between
   * the two leaves a PENDING order whose payment is already recorded: the step that resumes must not record it again.
   */
  paymentRecorded?: boolean;
}

/** The ORDERS stream as the orders' source of truth: one subject per order, appends guarded by its last sequence. */
export interface OrderEventStore {
  /**
   * Appends the order's next event only if the subject's last sequence is still `expectedLastSequence` (0: a new
   * order); otherwise throws OrderConflictError. Returns the event's stream sequence.
   */
  append(event: OrderEvent, expectedLastSequence: number): Promise<number>;
  /** Reads the order from its own subject, strongly consistent; undefined when it has no events. */
  load(orderId: string): Promise<StoredOrder | undefined>;
  /** The stream sequence of the order's last event; 0 when there is none. */
  lastSequence(orderId: string): Promise<number>;
}

const schemaByType = new Map<string, DescMessage>(orderEventSchemas.map((schema) => [schema.typeName, schema]));

/** The JetStream error code of a publish whose expected last subject sequence did not match. */
const wrongLastSequence = 10071;

export function createOrderEventStore(options: {
  jsm: JetStreamManager;
  events: EventPublisher;
  namespace: string;
}): OrderEventStore {
  const { jsm, events, namespace } = options;
  const stream = namespacedStream(namespace, eventContract(OrderPaidSchema).stream);
  const subjectOf = (orderId: string) => eventSubject(OrderPaidSchema, create(OrderPaidSchema, { orderId }), namespace);

  const lastSequence = async (orderId: string) => {
    try {
      const last = await jsm.streams.getMessage(stream, { last_by_subj: subjectOf(orderId) });
      return last?.seq ?? 0;
    } catch (err) {
      if ((err as { code?: number }).code === 10037 || /no message found/i.test((err as Error).message)) return 0;
      throw err;
    }
  };

  return {
    lastSequence,

    async append(event, expectedLastSequence) {
      const schema = schemaByType.get(event.$typeName) as DescMessage;
      try {
        const ack = await events.publish(schema, event as never, { expectLastSubjectSequence: expectedLastSequence });
        return ack.seq;
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === wrongLastSequence || /wrong last sequence/i.test((err as Error).message)) {
          throw new OrderConflictError(`order ${event.meta?.aggregateId} changed while this step ran`);
        }
        throw err;
      }
    },

    async load(orderId) {
      const last = await lastSequence(orderId);
      if (last === 0) return undefined;
      // One stream-message read per event, answered by the stream's leader: no consumer to create, so nothing is
      // left waiting on a node that died (an ephemeral consumer placed there hangs until it times out).
      const subject = subjectOf(orderId);
      let order: Order | undefined;
      let seq = 1;
      let lastSequenceRead = 0;
      let paymentRecorded = false;
      while (lastSequenceRead < last) {
        // `next_by_subj` (NATS ≥ 2.9): the subject's first message at or after `seq`; nats.js types only seq and last.
        const msg = await jsm.streams.getMessage(stream, { next_by_subj: subject, seq } as unknown as MsgRequest);
        if (msg === null) break;
        const schema = schemaByType.get(msg.header?.get(eventTypeHeader) ?? "");
        if (schema !== undefined) order = applyOrderEvent(order, decodeEvent(schema, msg.data) as OrderEvent);
        if (schema === PaymentSucceededSchema) paymentRecorded = true;
        lastSequenceRead = msg.seq;
        seq = msg.seq + 1;
      }
      return order === undefined ? undefined : { order, lastSequence: lastSequenceRead, paymentRecorded };
    },
  };
}
