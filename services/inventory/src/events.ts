import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import {
  ReservationChangedSchema,
  StockChangedSchema,
  type StockChangeReason,
} from "@shop/contracts/shop/inventory/v1/events_pb.js";
import type { ReservationState } from "@shop/contracts/shop/inventory/v1/inventory_pb.js";
import { StockLevelSetSchema } from "@shop/contracts/shop/products/v1/events_pb.js";
import {
  type EncodedEvent,
  type EventConsumer,
  type EventConsumerOptions,
  encodeEvent,
  type Logger,
  newEventMeta,
  on,
  startEventConsumer,
} from "@shop/platform";
import { decodeLines } from "./domain/reservation-lines.js";
import { stockLevel } from "./domain/stock-level.js";
import type { OutboxEntry } from "./store/redis-outbox-source.js";
import type { StockStore } from "./store/stock-store.js";

/*
 * Published (through the Redis outbox): StockChanged for every change of a SKU, ReservationChanged for every state
 * change of a reservation. Consumed: StockLevelSet from products — the seller's count becomes on_hand.
 */

/**
 * Builds the event an outbox entry stands for. The event id is the entry's stream id (with the key prefix), so a
 * batch that is published again after a crash carries the same msgID and JetStream stores it once.
 */
export function outboxEntryToEvent(entry: OutboxEntry, namespace: string, prefix: string): EncodedEvent {
  const f = entry.fields;
  const eventId = `inventory:${prefix}${entry.id}`;
  const at = Number(f.at);
  if (f.kind === "stock") {
    const level = stockLevel(String(f.sku), BigInt(f.on_hand ?? 0), BigInt(f.reserved ?? 0), BigInt(f.version ?? 0));
    const event = create(StockChangedSchema, {
      meta: newEventMeta(level.sku, level.version, { eventId, now: at }),
      level,
      reason: Number(f.reason) as StockChangeReason,
      sellerVersion: BigInt(f.seller_version ?? 0),
    });
    return encodeEvent(StockChangedSchema, event, namespace);
  }
  if (f.kind === "reservation") {
    const id = String(f.id);
    const event = create(ReservationChangedSchema, {
      meta: newEventMeta(id, BigInt(f.version ?? 0), { eventId, now: at, correlationId: f.reference ?? "" }),
      reservation: {
        id,
        state: Number(f.state) as ReservationState,
        lines: decodeLines(String(f.lines)).map((line) => ({ sku: line.sku, quantity: BigInt(line.quantity) })),
        expireTime: timestampFromMs(Number(f.expire_ms)),
        createTime: timestampFromMs(Number(f.create_ms)),
        reference: f.reference ?? "",
      },
    });
    return encodeEvent(ReservationChangedSchema, event, namespace);
  }
  throw new Error(`outbox entry ${entry.id} has unknown kind "${f.kind}"`);
}

/**
 * Follows the sellers' stock levels: each StockLevelSet sets on_hand unless a newer or equal version was applied
 * already (the check and the write are one script, with the applied version stored next to the level).
 */
export function startSellerStockConsumer(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  logger: Logger;
  store: StockStore;
  /** The service's metrics registry (`platform.metrics`), for the consumer's counts and lag. */
  metrics?: EventConsumerOptions["metrics"];
  /** Waits for a running rebuild; levels arriving while Redis is being restored are applied after it. */
  awaitRestore: (timeoutMs: number) => Promise<void>;
}): Promise<EventConsumer> {
  const { store, logger } = options;
  return startEventConsumer({
    js: options.js,
    jsm: options.jsm,
    metrics: options.metrics,
    namespace: options.namespace,
    logger,
    name: "inventory-seller-stock",
    handlers: [
      on(StockLevelSetSchema, async (event) => {
        const version = event.meta?.aggregateVersion ?? 0n;
        if (event.sku === "" || event.quantity < 0n || version <= 0n) {
          // Retrying cannot make such an event valid; it is logged for the products team and skipped.
          logger.error(
            { sku: event.sku, quantity: String(event.quantity), version: String(version) },
            "invalid StockLevelSet skipped",
          );
          return;
        }
        const apply = () => store.applySellerLevel({ sku: event.sku, quantity: event.quantity, version });
        const { applied, level } = await apply().catch(async (err: unknown) => {
          if (await store.hasState().catch(() => true)) throw err;
          await options.awaitRestore(20_000);
          return apply();
        });
        logger.debug(
          { sku: event.sku, version: String(version), applied, onHand: String(level.onHand) },
          "seller level",
        );
      }),
    ],
  });
}
