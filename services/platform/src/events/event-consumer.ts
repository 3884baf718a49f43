import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { headers, nanos } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { eventContract } from "../contract.js";
import type { Logger } from "../logger.js";
import { decodeEvent, eventTypeHeader } from "./event-codec.js";
import { eventSubjectFilter, namespacedStream } from "./event-subjects.js";
import { pipelineMetrics } from "./pipeline-metrics.js";
import { deadLetterSubject } from "./streams.js";

/** What a handler learns about the delivery besides the event itself. */
export interface Delivery {
  subject: string;
  streamSequence: number;
  deliveryCount: number;
  /** When JetStream stored the event: ms since the epoch, by the NATS server's clock. */
  storedAtMs: number;
}

export interface EventHandler<Desc extends DescMessage = DescMessage> {
  schema: Desc;
  handle(event: MessageShape<Desc>, delivery: Delivery): Promise<void> | void;
}

/** Pairs an event type with its handler: `on(ProductCreatedSchema, async (event) => …)`. */
export function on<Desc extends DescMessage>(
  schema: Desc,
  handle: (event: MessageShape<Desc>, delivery: Delivery) => Promise<void> | void,
): EventHandler<Desc> {
  return { schema, handle };
}

export interface EventConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Durable consumer name (namespaced by the platform); replicas sharing a name share the work. */
  name: string;
  handlers: EventHandler[];
  namespace?: string;
  logger: Logger;
  /** Deliveries before a message goes to the dead-letter stream. Default 5. */
  maxDeliver?: number;
  /** Delay before each redelivery after a failure; the last value repeats. Default 200 ms, 1 s, 5 s, 15 s. */
  backoffMs?: number[];
  /** Redelivery when a consumer dies holding a message. Default 30 s. */
  ackWaitMs?: number;
  /** Where a new durable consumer starts. Default: the whole stream. */
  deliverPolicy?: "all" | "new" | "last_per_subject";
  /**
   * Where the consumer's metrics go (the service's registry, `platform.metrics`): events settled by outcome, and at
   * each scrape how many events wait for it and how many it holds unacknowledged. Default: none.
   */
  metrics?: Registry;
}

export interface EventConsumer {
  /** Stops fetching, finishes the message in hand and returns. */
  stop(): Promise<void>;
  /**
   * Stops, then deletes the durable from the server: for a consumer of one process only (a replica that keeps its own
   * copy), which nothing will resume. A failure to delete is left to the server's inactivity threshold.
   */
  remove(): Promise<void>;
  /** Resolves once the consumer has no pending messages (handy for tests and rebuilds). */
  caughtUp(timeoutMs?: number): Promise<void>;
}

const deliverPolicies = {
  all: DeliverPolicy.All,
  new: DeliverPolicy.New,
  last_per_subject: DeliverPolicy.LastPerSubject,
};

/**
 * A durable pull consumer with explicit acks. A failing message is redelivered with backoff; after `maxDeliver`
 * deliveries (or when it cannot be decoded) it is copied to the dead-letter stream and terminated, so one poison
 * message never blocks the stream. Events of types without a handler are acknowledged and skipped.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<EventConsumer> {
  const { js, jsm, logger, handlers } = options;
  const namespace = options.namespace ?? "";
  const maxDeliver = options.maxDeliver ?? 5;
  const backoff = options.backoffMs ?? [200, 1_000, 5_000, 15_000];
  const streams = new Set(handlers.map((h) => eventContract(h.schema).stream));
  if (streams.size !== 1)
    throw new Error(`consumer ${options.name}: handlers must all read one stream, got ${[...streams].join(", ")}`);
  const stream = namespacedStream(namespace, [...streams][0] as string);
  const filters = new Set(handlers.map((h) => eventSubjectFilter(h.schema, namespace)));
  const byType = new Map(handlers.map((h) => [h.schema.typeName, h]));
  const durable = namespace ? `${namespace}_${options.name}` : options.name;
  const metrics = options.metrics && pipelineMetrics(options.metrics);
  // Each outcome's labelled child is looked up once, not hashed again for every event.
  const outcomes = ["handled", "skipped", "retried", "dead_lettered"] as const;
  const counters = new Map(
    outcomes.map((outcome) => [outcome, metrics?.handled.labels({ consumer: durable, outcome })]),
  );
  const settled = (outcome: (typeof outcomes)[number]) => counters.get(outcome)?.inc();

  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    // Poison handling is ours (dead letter after maxDeliver), so the server never silently drops a message.
    max_deliver: -1,
    deliver_policy: deliverPolicies[options.deliverPolicy ?? "all"],
    // NATS 2.9 takes one filter: when handlers span several subjects, read the stream and skip what is not ours.
    filter_subject: filters.size === 1 ? [...filters][0] : undefined,
  });
  const consumer = await js.consumers.get(stream, durable);

  const deadLetter = async (msg: JsMsg, reason: string) => {
    const h = headers();
    h.set(eventTypeHeader, msg.headers?.get(eventTypeHeader) ?? "");
    h.set("Shop-Original-Subject", msg.subject);
    h.set("Shop-Original-Stream", stream);
    h.set("Shop-Original-Sequence", String(msg.seq));
    h.set("Shop-Consumer", durable);
    h.set("Shop-Error", reason.slice(0, 1000));
    await js.publish(deadLetterSubject(namespace, options.name), msg.data, {
      headers: h,
      msgID: `${stream}:${msg.seq}:${durable}`,
    });
    // No reason text: NATS 2.9 does not parse "+TERM <reason>"; the reason travels in the dead letter instead.
    msg.term();
    settled("dead_lettered");
    logger.error({ consumer: durable, subject: msg.subject, seq: msg.seq, reason }, "event dead-lettered");
  };

  const process = async (msg: JsMsg) => {
    const typeName = msg.headers?.get(eventTypeHeader) ?? "";
    const handler = byType.get(typeName);
    if (handler === undefined) {
      msg.ack();
      settled("skipped");
      return;
    }
    const deliveryCount = msg.info.deliveryCount;
    if (deliveryCount > maxDeliver) return deadLetter(msg, "exceeded deliveries without an ack");
    let event: MessageShape<DescMessage>;
    try {
      event = decodeEvent(handler.schema, msg.data);
    } catch (err) {
      return deadLetter(msg, `undecodable ${typeName}: ${(err as Error).message}`);
    }
    try {
      await handler.handle(event, {
        subject: msg.subject,
        streamSequence: msg.seq,
        deliveryCount,
        storedAtMs: msg.info.timestampNanos / 1e6,
      });
      msg.ack();
      settled("handled");
    } catch (err) {
      const reason = (err as Error).message ?? String(err);
      if (deliveryCount >= maxDeliver) return deadLetter(msg, reason);
      const delay = backoff[Math.min(deliveryCount - 1, backoff.length - 1)] ?? 1_000;
      logger.warn(
        { consumer: durable, subject: msg.subject, deliveryCount, delay, err },
        "event handler failed; will retry",
      );
      msg.nak(delay);
      settled("retried");
    }
  };

  const lag = async () => {
    const info = await jsm.consumers.info(stream, durable);
    return { pending: info.num_pending, unacked: info.num_ack_pending };
  };
  metrics?.lags.set(durable, lag);

  let messages: ConsumerMessages | undefined;
  const loop = (async () => {
    messages = await consumer.consume({ max_messages: 256 });
    for await (const msg of messages) {
      try {
        await process(msg);
      } catch (err) {
        logger.error({ err, consumer: durable }, "event consumer failed to settle a message");
        msg.nak(backoff[0]);
        settled("retried");
      }
    }
  })();

  const stop = async () => {
    if (metrics?.lags.get(durable) === lag) metrics.lags.delete(durable);
    await messages?.close();
    await loop.catch(() => undefined);
  };

  return {
    stop,
    async remove() {
      await stop();
      await jsm.consumers.delete(stream, durable).catch(() => undefined);
    },
    async caughtUp(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const info = await jsm.consumers.info(stream, durable);
        if (info.num_pending === 0 && info.num_ack_pending === 0) return;
        if (Date.now() > deadline) throw new Error(`consumer ${durable} not caught up after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
