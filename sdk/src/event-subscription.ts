import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { eventContract, eventSubjectFilter, eventTypeHeader, namespacedStream } from "@shop/event-wire";

/** One decoded event, tagged with its schema so handlers can narrow with `isEvent`. */
export interface ReceivedEvent<Desc extends DescMessage = DescMessage> {
  schema: Desc;
  event: MessageShape<Desc>;
  subject: string;
  /** Position in the stream: resume a subscription after it with `afterSequence`. */
  sequence: number;
}

export function isEvent<Desc extends DescMessage>(
  received: ReceivedEvent,
  schema: Desc,
): received is ReceivedEvent<Desc> {
  return received.schema.typeName === schema.typeName;
}

export interface SubscribeOptions {
  /** Event types to receive; all must be published to one stream (e.g. ProductCreated and ProductUpdated). */
  events: DescMessage[];
  /** The deployment's SHOP_NAMESPACE, if it has one. */
  namespace?: string;
  /** Where to start: only new events (default), the whole history, or after a sequence seen before. */
  from?: "new" | "all" | { afterSequence: number };
  /** Let the server filter by subject (NATS 2.10 and later). Default false, which works with every server. */
  filterOnServer?: boolean;
}

export interface EventSubscription {
  /** The events as they arrive, in stream order. */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedEvent>;
  stop(): Promise<void>;
}

/**
 * Typed, read-only event subscriptions for storefronts and tools: an ordered JetStream consumer (nothing to clean up
 * on the server) that decodes each message with its contract type. Works with any nats.js v3 connection: TCP in
 * Node (`@nats-io/transport-node`) or WebSocket in browsers (`wsconnect` from `@nats-io/nats-core`).
 */
export async function subscribeToEvents(nats: NatsConnection, options: SubscribeOptions): Promise<EventSubscription> {
  const namespace = options.namespace ?? "";
  const streams = new Set(options.events.map((schema) => eventContract(schema).stream));
  if (streams.size !== 1) throw new Error(`subscribe to one stream at a time; got ${[...streams].join(", ")}`);
  const byType = new Map(options.events.map((schema) => [schema.typeName, schema]));
  const filters = new Set(options.events.map((schema) => eventSubjectFilter(schema, namespace)));
  const from = options.from ?? "new";
  const consumer = await jetstream(nats).consumers.get(namespacedStream(namespace, [...streams][0] as string), {
    // NATS 2.9 servers refuse filtered ordered consumers; there the whole stream is read and other types skipped.
    ...(options.filterOnServer && filters.size === 1 ? { filter_subjects: [...filters][0] as string } : {}),
    ...(from === "new"
      ? { deliver_policy: DeliverPolicy.New }
      : from === "all"
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.afterSequence + 1 }),
  });
  const messages = await consumer.consume();
  async function* decoded(): AsyncGenerator<ReceivedEvent> {
    for await (const msg of messages) {
      const schema = byType.get(msg.headers?.get(eventTypeHeader) ?? "");
      if (schema === undefined) continue;
      yield { schema, event: fromBinary(schema, msg.data), subject: msg.subject, sequence: msg.seq };
    }
  }
  const iterator = decoded();
  return {
    [Symbol.asyncIterator]: () => iterator,
    async stop() {
      // close() settles once the message iterator is finished, which needs the reader to let go of it first.
      const closed = messages.close();
      await iterator.return(undefined);
      await closed;
    },
  };
}
