import type { DescMessage } from "@bufbuild/protobuf";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { OrderPaidSchema, PaymentSucceededSchema } from "@shop/contracts/shop/orders/v1/events_pb.js";
import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { decodeEvent, eventContract, eventTypeHeader, type Logger, namespacedStream } from "@shop/platform";
import { pageOfOrders } from "./domain/order-paging.js";
import { applyOrderEvent, type OrderEvent, orderEventSchemas } from "./domain/order-state.js";
import { hasLinesOf } from "./domain/seller-view.js";
import type { OrderEventStore, StoredOrder } from "./store/order-event-store.js";
import { followStream, type StreamFollower } from "./store/stream-follower.js";

/** Which orders a list shows. */
export interface OrderFilter {
  customerId?: string;
  state?: OrderState;
  /** Only orders with at least one line of this seller. */
  sellerId?: string;
}

/**
 * GetOrder and ListOrders read this: every order in memory, rebuilt at start by replaying the ORDERS stream and kept
 * current by following it. A read of one order checks the order's last sequence on its subject and, if the model has
 * not applied it yet (right after a write, or on another replica), reads the subject itself: never stale.
 */
export interface OrderReadModel {
  /** Resolves once the replay at start reached the stream's end. */
  caughtUp: Promise<void>;
  /** The order as of its latest event. */
  get(orderId: string): Promise<StoredOrder | undefined>;
  /** Whether the model has applied an event of the order yet (from memory; another replica may know more). */
  has(orderId: string): boolean;
  /**
   * A page of orders, newest first (creation time, then id). The token is an opaque cursor after the last order of
   * the previous page, bound to the filter: orders placed in between do not shift later pages. A token that is not
   * one → InvalidInputError naming page_token. `pageSize` 0 means 50.
   */
  list(filter: OrderFilter, pageSize: number, pageToken: string): { orders: Order[]; nextPageToken: string };
  stop(): Promise<void>;
}

const schemaByType = new Map<string, DescMessage>(orderEventSchemas.map((schema) => [schema.typeName, schema]));

export async function startOrderReadModel(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  logger: Logger;
  store: OrderEventStore;
}): Promise<OrderReadModel> {
  const orders = new Map<string, StoredOrder>();
  const apply = (event: OrderEvent, sequence: number) => {
    const id = event.meta?.aggregateId ?? "";
    const known = orders.get(id);
    if (known !== undefined && known.lastSequence >= sequence) return;
    orders.set(id, {
      order: applyOrderEvent(known?.order, event),
      lastSequence: sequence,
      paymentRecorded: known?.paymentRecorded || event.$typeName === PaymentSucceededSchema.typeName,
    });
  };
  const follower: StreamFollower = await followStream({
    js: options.js,
    jsm: options.jsm,
    stream: namespacedStream(options.namespace, eventContract(OrderPaidSchema).stream),
    logger: options.logger,
    onMessage(msg) {
      const schema = schemaByType.get(msg.headers?.get(eventTypeHeader) ?? "");
      if (schema !== undefined) apply(decodeEvent(schema, msg.data) as OrderEvent, msg.seq);
    },
  });

  return {
    caughtUp: follower.caughtUp,
    async get(orderId) {
      const known = orders.get(orderId);
      const last = await options.store.lastSequence(orderId);
      if (last === 0) return undefined;
      if (known !== undefined && known.lastSequence >= last) return known;
      return options.store.load(orderId);
    },
    has: (orderId) => orders.has(orderId),
    list(filter, pageSize, pageToken) {
      const state = filter.state ?? OrderState.UNSPECIFIED;
      const matching = [...orders.values()]
        .map((stored) => stored.order)
        .filter((order) => filter.customerId === undefined || order.customerId === filter.customerId)
        .filter((order) => filter.sellerId === undefined || hasLinesOf(order, filter.sellerId))
        .filter((order) => state === OrderState.UNSPECIFIED || order.state === state);
      const filters = `customer=${filter.customerId ?? ""}&seller=${filter.sellerId ?? ""}&state=${state}`;
      return pageOfOrders(matching, { pageSize, pageToken, filters });
    },
    stop: () => follower.stop(),
  };
}
