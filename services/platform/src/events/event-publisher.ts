import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { type EncodedEvent, encodeEvent, eventTypeHeader } from "./event-codec.js";

export interface EventPublisher {
  /** Publishes a typed event on its contract subject; a repeated event id is stored once (JetStream dedup). */
  publish<Desc extends DescMessage>(schema: Desc, event: MessageShape<Desc>, options?: PublishOptions): Promise<PubAck>;
  /** Publishes an event encoded earlier (e.g. read back from an outbox). */
  publishEncoded(event: EncodedEvent, options?: PublishOptions): Promise<PubAck>;
}

export interface PublishOptions {
  /** Optimistic concurrency: publish only if the subject's last sequence is this (0 = subject must be empty). */
  expectLastSubjectSequence?: number;
  timeoutMs?: number;
}

/** Typed publishing with `msgID` = event id. */
export function createEventPublisher(js: JetStreamClient, namespace = ""): EventPublisher {
  const publishEncoded = (event: EncodedEvent, options: PublishOptions = {}) => {
    const h = headers();
    h.set(eventTypeHeader, event.typeName);
    return js.publish(event.subject, event.data, {
      msgID: event.eventId,
      headers: h,
      timeout: options.timeoutMs ?? 5_000,
      expect:
        options.expectLastSubjectSequence === undefined
          ? undefined
          : { lastSubjectSequence: options.expectLastSubjectSequence },
    });
  };
  return {
    publishEncoded,
    publish: (schema, event, options) => publishEncoded(encodeEvent(schema, event, namespace), options),
  };
}
