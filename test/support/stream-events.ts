// What reached JetStream, read two ways: the messages a stream stores, and every publish seen on the wire by a plain
// NATS subscription — which also sees a repeat that JetStream's msgID dedup dropped, so a relay that published an
// event twice cannot hide behind the dedup.
import { fromBinary } from "@bufbuild/protobuf";
import { type Consumer, jetstream } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { contractRegistry, eventTypeHeader, metaOf } from "@shop/platform";

/** One event, decoded far enough to count it. */
export interface SeenEvent {
  /** Short type name, e.g. "ProductCreated". */
  type: string;
  eventId: string;
  aggregateId: string;
}

function decode(msg: Pick<Msg, "headers" | "data" | "subject">): SeenEvent {
  const typeName = msg.headers?.get(eventTypeHeader) ?? "";
  const schema = contractRegistry.getMessage(typeName);
  if (schema === undefined) throw new Error(`unknown event type "${typeName}" on ${msg.subject}`);
  const meta = metaOf(fromBinary(schema, msg.data));
  return { type: typeName.split(".").pop() as string, eventId: meta.eventId, aggregateId: meta.aggregateId };
}

/** `request()`, tried again on failure up to 10 times in all: the last failure is thrown. */
async function retried<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (attempt === 10) throw err;
    }
  }
}

/**
 * Every message `stream` holds, in order, through an ordered consumer. Asking for the stream's state and creating that
 * consumer may time out for a while after a cluster node died (NATS 2.9 may still place them there, or be electing the
 * stream's new leader), so each is tried again.
 */
export async function storedEvents(nats: NatsConnection, stream: string): Promise<SeenEvent[]> {
  const js = jetstream(nats);
  const jsm = await js.jetstreamManager();
  const { state } = await retried(() => jsm.streams.info(stream));
  const events: SeenEvent[] = [];
  if (state.messages === 0) return events;
  const consumer: Consumer = await retried(() => js.consumers.get(stream));
  const messages = await consumer.consume();
  for await (const msg of messages) {
    events.push(decode(msg));
    if (msg.seq >= state.last_seq) break;
  }
  await messages.close();
  return events;
}

/** A plain subscription to event subjects, counting every publish it sees. */
export interface WireTap {
  /** What was published so far, repeats included. */
  seen(): SeenEvent[];
  close(): Promise<void>;
}

/** Subscribes to `subjects` (stream filters such as `ns.products.>`) before the load starts. */
export async function tapEvents(nats: NatsConnection, subjects: string[]): Promise<WireTap> {
  const seen: SeenEvent[] = [];
  const subscriptions: Subscription[] = subjects.map((subject) =>
    nats.subscribe(subject, {
      callback: (err, msg) => {
        if (err === null) seen.push(decode(msg));
      },
    }),
  );
  await nats.flush();
  return {
    seen: () => [...seen],
    async close() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      await nats.flush();
    },
  };
}

/** The ids among `events` that occur more than once. */
export function repeatedIds(events: SeenEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.eventId, (counts.get(event.eventId) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([id]) => id);
}
