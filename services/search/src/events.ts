// What the search service consumes: product, collection and stock events; it publishes none. Live events come
// through durable consumers; rebuilds replay the streams with ephemeral ordered consumers.
import type { DescMessage } from "@bufbuild/protobuf";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import {
  CollectionChangedSchema,
  ProductArchivedSchema,
  ProductCreatedSchema,
  ProductUpdatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import {
  decodeEvent,
  type EventConsumer,
  type EventConsumerOptions,
  eventContract,
  eventTypeHeader,
  type Logger,
  namespacedStream,
  on,
  startEventConsumer,
} from "@shop/platform";
import type { CatalogEventSource, EventPosition, StreamPositions } from "./catalog-read-model.js";
import type { CatalogEvent } from "./domain/catalog-projection.js";

/** The events the catalog consumes, grouped by the stream they are stored in (one consumer per stream). */
/**
 * In replay order: stock first, since the projection keeps it per SKU and joins it when each product comes, so a build
 * writes each product's document once instead of once for the product and again for its stock.
 */
const consumedByStream: ReadonlyArray<{ suffix: string; schemas: DescMessage[] }> = [
  { suffix: "inventory", schemas: [StockChangedSchema] },
  {
    suffix: "products",
    schemas: [ProductCreatedSchema, ProductUpdatedSchema, ProductArchivedSchema, CollectionChangedSchema],
  },
];

/** A durable nobody pulled from for a day belongs to a replica that is gone. */
const abandonedConsumerMs = 24 * 3_600_000;

const streamOf = (schemas: DescMessage[]) => eventContract(schemas[0] as DescMessage).stream;

export interface CatalogConsumersOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  logger: Logger;
  /** Durable name prefix, one per process: every replica keeps its own copy of the catalog. */
  consumerName: string;
  /** The service's metrics registry (`platform.metrics`), for the consumer's counts and lag. */
  metrics?: EventConsumerOptions["metrics"];
  apply(event: CatalogEvent, position: EventPosition): void;
}

/**
 * Durable consumers that apply live events from now on, created at the stream's end: the read model is rebuilt from
 * the streams (or a snapshot) at every start, so the replay covers everything before it, and an overlap is harmless
 * because events apply by aggregate version. A durable of the same name is deleted first (it can only be stale).
 */
export async function startCatalogConsumers(options: CatalogConsumersOptions): Promise<EventConsumer[]> {
  const { js, jsm, namespace, logger, consumerName } = options;
  const consumers: EventConsumer[] = [];
  for (const { suffix, schemas } of consumedByStream) {
    const name = `${consumerName}-${suffix}`;
    const contractStream = streamOf(schemas);
    const stream = namespacedStream(namespace, contractStream);
    const durable = namespace ? `${namespace}_${name}` : name;
    await jsm.consumers.delete(stream, durable).catch(() => undefined);
    consumers.push(
      await startEventConsumer({
        js,
        jsm,
        namespace,
        logger,
        metrics: options.metrics,
        name,
        deliverPolicy: "new",
        handlers: schemas.map((schema) =>
          on(schema, (event, delivery) =>
            options.apply(event as CatalogEvent, {
              stream: contractStream,
              sequence: delivery.streamSequence,
              storedAtMs: delivery.storedAtMs,
            }),
          ),
        ),
      }),
    );
    // Durables are named per process, so each restart leaves the previous one behind: it removes itself once idle.
    await jsm.consumers
      .update(stream, durable, { inactive_threshold: nanos(abandonedConsumerMs) })
      .catch((err: unknown) => logger.warn({ err, durable }, "could not set the consumer's inactive threshold"));
  }
  return consumers;
}

/** Each stream's current end, to check a snapshot against (a recreated stream invalidates it). */
export async function streamEnds(jsm: JetStreamManager, namespace: string): Promise<StreamPositions> {
  const ends: StreamPositions = {};
  for (const { schemas } of consumedByStream) {
    const stream = streamOf(schemas);
    const info = await jsm.streams.info(namespacedStream(namespace, stream));
    ends[stream] = { sequence: info.state.last_seq, created: info.created };
  }
  return ends;
}

/**
 * Reads the INVENTORY and PRODUCTS streams from their first message (or after `after`) to the last one stored when
 * the replay starts, with ephemeral ordered consumers (no acks, flow controlled), decoding the events the catalog
 * consumes. A position from another incarnation of a stream (other creation time) is ignored: that stream is read
 * from its start.
 */
export function createStreamReplay(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  logger: Logger;
}): CatalogEventSource {
  const { js, jsm, namespace, logger } = options;
  return {
    async replay(apply, progress, after) {
      const plans = await Promise.all(
        consumedByStream.map(async ({ schemas }) => {
          const contractStream = streamOf(schemas);
          const stream = namespacedStream(namespace, contractStream);
          const info = await jsm.streams.info(stream);
          const resume = after?.[contractStream];
          const from = resume && resume.created === info.created ? resume.sequence + 1 : 1;
          return {
            contractStream,
            stream,
            created: info.created,
            from,
            lastSequence: info.state.last_seq,
            messages: Math.max(0, info.state.last_seq - Math.max(from, info.state.first_seq) + 1),
            bySchema: new Map(schemas.map((schema) => [schema.typeName, schema])),
          };
        }),
      );
      const total = plans.reduce((sum, plan) => sum + plan.messages, 0);
      const reached: StreamPositions = {};
      let applied = 0;
      progress(0, total);
      for (const plan of plans) {
        reached[plan.contractStream] = { sequence: plan.lastSequence, created: plan.created };
        if (plan.messages === 0) continue;
        const consumer = await js.consumers.get(
          plan.stream,
          plan.from > 1
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: plan.from }
            : { deliver_policy: DeliverPolicy.All },
        );
        const messages = await consumer.consume({ max_messages: 1_000 });
        for await (const msg of messages) {
          const schema = plan.bySchema.get(msg.headers?.get(eventTypeHeader) ?? "");
          if (schema) {
            try {
              apply(decodeEvent(schema, msg.data) as CatalogEvent, { stream: plan.contractStream, sequence: msg.seq });
            } catch (err) {
              logger.warn({ err, stream: plan.stream, seq: msg.seq }, "undecodable event skipped during replay");
            }
          }
          progress(++applied, total);
          if (msg.seq >= plan.lastSequence || msg.info.pending === 0) break;
        }
        await messages.close();
      }
      progress(applied, Math.max(applied, total));
      return reached;
    },
  };
}
