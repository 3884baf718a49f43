import type { DescMessage } from "@bufbuild/protobuf";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { OrderPaidSchema } from "@shop/contracts/shop/orders/v1/events_pb.js";
import { type Order, OrderState } from "@shop/contracts/shop/orders/v1/order_pb.js";
import { decodeEvent, eventContract, eventTypeHeader, type Logger, namespacedStream } from "@shop/platform";
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
  /** A page of orders, newest first; the token is where the previous page stopped. */
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
    orders.set(id, { order: applyOrderEvent(known?.order, event), lastSequence: sequence });
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
    list(filter, pageSize, pageToken) {
      const size = pageSize > 0 ? pageSize : 50;
      const offset = pageToken === "" ? 0 : Number.parseInt(Buffer.from(pageToken, "base64url").toString(), 10) || 0;
      const matching = [...orders.values()]
        .map((stored) => stored.order)
        .filter((order) => filter.customerId === undefined || order.customerId === filter.customerId)
        .filter((order) => filter.sellerId === undefined || hasLinesOf(order, filter.sellerId))
        .filter(
          (order) =>
            filter.state === undefined || filter.state === OrderState.UNSPECIFIED || order.state === filter.state,
        )
        .sort(
          (a, b) => Number((b.createTime?.seconds ?? 0n) - (a.createTime?.seconds ?? 0n)) || a.id.localeCompare(b.id),
        );
      const page = matching.slice(offset, offset + size);
      const next = offset + size < matching.length ? Buffer.from(String(offset + size)).toString("base64url") : "";
      return { orders: page, nextPageToken: next };
    },
    stop: () => follower.stop(),
  };
}
