import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type EventMeta, EventMetaSchema } from "@shop/contracts/shop/events/v1/event_pb.js";

/** The metadata every event carries: a fresh id (the JetStream msgID), the aggregate and its version after the fact. */
export function newEventMeta(
  aggregateId: string,
  aggregateVersion: bigint | number,
  options: { correlationId?: string; eventId?: string; now?: number } = {},
): EventMeta {
  return create(EventMetaSchema, {
    eventId: options.eventId ?? randomUUID(),
    aggregateId,
    aggregateVersion: BigInt(aggregateVersion),
    occurTime: timestampFromMs(options.now ?? Date.now()),
    correlationId: options.correlationId ?? "",
  });
}

/** Every event message has `meta` as field 1; this reads it without knowing the event type. */
export function metaOf(event: object): EventMeta {
  const meta = (event as { meta?: EventMeta }).meta;
  if (meta === undefined || meta.eventId === "") throw new Error("event has no meta.event_id");
  return meta;
}
