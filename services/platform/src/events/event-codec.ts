import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { metaOf } from "./event-meta.js";
import { eventSubject } from "./event-subjects.js";

export { eventTypeHeader } from "@shop/event-wire";

/** An event ready for the wire or the outbox: subject, protobuf bytes, type name and dedup id. */
export interface EncodedEvent {
  subject: string;
  typeName: string;
  eventId: string;
  aggregateId: string;
  aggregateVersion: bigint;
  data: Uint8Array;
}

export function encodeEvent<Desc extends DescMessage>(
  schema: Desc,
  event: MessageShape<Desc>,
  namespace = "",
): EncodedEvent {
  const meta = metaOf(event);
  return {
    subject: eventSubject(schema, event, namespace),
    typeName: schema.typeName,
    eventId: meta.eventId,
    aggregateId: meta.aggregateId,
    aggregateVersion: meta.aggregateVersion,
    data: toBinary(schema, event),
  };
}

export function decodeEvent<Desc extends DescMessage>(schema: Desc, data: Uint8Array): MessageShape<Desc> {
  return fromBinary(schema, data);
}
