import type { DescFile, DescMessage } from "@bufbuild/protobuf";
import { ApiKeyCreatedSchema, file_shop_identity_v1_events } from "@shop/contracts/shop/identity/v1/events_pb.js";
import {
  file_shop_inventory_v1_events,
  ReservationChangedSchema,
  StockChangedSchema,
} from "@shop/contracts/shop/inventory/v1/events_pb.js";
import { file_shop_orders_v1_events, OrderPlacedSchema } from "@shop/contracts/shop/orders/v1/events_pb.js";
import {
  CollectionChangedSchema,
  file_shop_products_v1_events,
  ProductCreatedSchema,
  StockLevelSetSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import { allEventContracts, eventContract } from "./contract.js";
import { eventSubjectFilter, namespacedStream, namespacedSubject } from "./events/event-subjects.js";
import { contractStreams, deadLetterStream, deadLetterSubject } from "./events/streams.js";
import { natsInboxPrefix } from "./nats-connection.js";

/** What a NATS user may do: subjects it may publish to and subscribe on; a deny wins over an allow. */
export interface NatsPermissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[]; deny: string[] };
}

/** The services that connect to NATS, each as a user of its own. */
export const natsServiceNames = ["products", "search", "inventory", "orders", "gateway"] as const;
export type NatsServiceName = (typeof natsServiceNames)[number];

/** Whether `name` is one of the services that connect to NATS as a user of their own. */
export function isNatsServiceName(name: string): name is NatsServiceName {
  return (natsServiceNames as readonly string[]).includes(name);
}

/**
 * What one service does on NATS besides what every service's platform does (ensure the contract's streams, follow the
 * IDENTITY stream). Kept beside the permissions it grants, since the platform cannot see into the services; the
 * e2e test `nats-permissions.test.ts` runs every service under these permissions, so a use missing here fails there.
 */
interface NatsUse {
  /** Proto files whose events the service publishes (its outbox relay or event store). */
  publishes: DescFile[];
  /** Event types it reads with consumers (durable or ordered): read access to their streams. */
  reads: DescMessage[];
  /** Its durable consumers of fixed names (the name given to startEventConsumer), by an event type of the stream. */
  durables: { stream: DescMessage; name: string }[];
  /**
   * Streams on which it names its durables per process (search: SHOP_SEARCH_CONSUMER, default the host name), so it
   * may create, ack and delete any durable there but the fixed ones of the other services.
   */
  perProcessDurables: DescMessage[];
  /** Streams whose messages it reads one at a time by subject (orders' event store). */
  getsMessages: DescMessage[];
  /** Its JetStream KV buckets, as named in an empty namespace (`<namespace>_<name>` otherwise). */
  kvBuckets: string[];
  /** Core NATS subjects (before the namespace) it publishes and subscribes on, and whether it answers requests. */
  coreSubjects: string[];
  /** Whether it replies to requests of its own replicas (publishes to their inboxes). */
  replies: boolean;
}

const none: NatsUse = {
  publishes: [],
  reads: [],
  durables: [],
  perProcessDurables: [],
  getsMessages: [],
  kvBuckets: [],
  coreSubjects: [],
  replies: false,
};

const uses: Record<NatsServiceName, NatsUse> = {
  // Products hosts the API keys, so it publishes the IDENTITY events as well as its own.
  products: { ...none, publishes: [file_shop_products_v1_events, file_shop_identity_v1_events] },
  // The catalog: durables per process on PRODUCTS and INVENTORY, replays with ordered consumers, the index writer
  // lease (a KV bucket) and reindex requests forwarded between replicas (services/search/src/reindex-forwarding.ts).
  search: {
    ...none,
    reads: [ProductCreatedSchema, StockChangedSchema],
    perProcessDurables: [ProductCreatedSchema, StockChangedSchema],
    kvBuckets: ["search_index_writers"],
    coreSubjects: ["shop-internal.search.reindex.*"],
    replies: true,
  },
  // Sellers' stock levels from PRODUCTS; its own INVENTORY stream read back when Redis lost its data.
  inventory: {
    ...none,
    publishes: [file_shop_inventory_v1_events],
    reads: [StockLevelSetSchema, StockChangedSchema],
    durables: [{ stream: StockLevelSetSchema, name: "inventory-seller-stock" }],
  },
  // Its own event-sourced ORDERS stream, prices from PRODUCTS, expired holds from INVENTORY, and two KV buckets.
  orders: {
    ...none,
    publishes: [file_shop_orders_v1_events],
    reads: [OrderPlacedSchema, CollectionChangedSchema, ReservationChangedSchema],
    durables: [
      { stream: ReservationChangedSchema, name: "orders-hold-expiry" },
      { stream: OrderPlacedSchema, name: "orders-notifications" },
    ],
    getsMessages: [OrderPlacedSchema],
    kvBuckets: ["order_recovery_claims", "orders_mail_sent"],
  },
  gateway: none,
};

const api = "$JS.API";
const streamOf = (namespace: string, schema: DescMessage) => namespacedStream(namespace, eventContract(schema).stream);
const durableName = (namespace: string, name: string) => (namespace ? `${namespace}_${name}` : name);
const kvBucket = (namespace: string, name: string) => (namespace ? `${namespace}_${name}` : name);
const unique = (subjects: string[]) => [...new Set(subjects)];

/** Everything a consumer of `durable` on `stream` does with it: create, read, ack, delete. */
function durableSubjects(stream: string, durable: string): string[] {
  return [
    `${api}.CONSUMER.CREATE.${stream}.${durable}`,
    `${api}.CONSUMER.CREATE.${stream}.${durable}.>`,
    `${api}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `${api}.CONSUMER.DELETE.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/**
 * The contract streams `service` may update in `namespace`: those of the events it publishes, and the dead letters every
 * service writes. Undefined for a name that is not one of the services (tests' own platforms): no restriction.
 */
export function updatableStreams(service: string, namespace = ""): string[] | undefined {
  if (!isNatsServiceName(service)) return undefined;
  const use = uses[service];
  const own = allEventContracts()
    .filter((contract) => use.publishes.includes(contract.schema.file))
    .map((contract) => streamOf(namespace, contract.schema));
  return unique([...own, namespacedStream(namespace, deadLetterStream)]);
}

/**
 * The least a service needs on NATS in `namespace` (SHOP_NAMESPACE): its own events and dead letters to publish,
 * the streams it reads to consume (its own durables only), its own KV buckets, and the JetStream API calls of these.
 * Every service may create the contract's streams (ensureStreams, with the contract's config: creating one that exists
 * changes nothing); only its owner may update one, since an update can shrink a stream's limits and so drop its
 * events. None may delete or purge a stream, delete a message, or publish another service's events.
 */
export function natsPermissions(service: NatsServiceName, namespace = ""): NatsPermissions {
  const use = uses[service];
  const publish: string[] = [`${api}.INFO`];
  const deny: string[] = [`${api}.STREAM.DELETE.>`, `${api}.STREAM.PURGE.>`, `${api}.STREAM.MSG.DELETE.>`];

  const updatable = updatableStreams(service, namespace) ?? [];
  for (const stream of contractStreams(namespace)) {
    publish.push(`${api}.STREAM.INFO.${stream.name}`, `${api}.STREAM.CREATE.${stream.name}`);
    if (updatable.includes(stream.name)) publish.push(`${api}.STREAM.UPDATE.${stream.name}`);
  }
  for (const contract of allEventContracts()) {
    if (use.publishes.includes(contract.schema.file)) publish.push(eventSubjectFilter(contract.schema, namespace));
  }

  // Every platform follows the API keys on IDENTITY with an ordered consumer (named at random, never acked).
  const readStreams = unique([ApiKeyCreatedSchema, ...use.reads].map((schema) => streamOf(namespace, schema)));
  for (const stream of readStreams) {
    publish.push(
      `${api}.CONSUMER.CREATE.${stream}.*`,
      `${api}.CONSUMER.CREATE.${stream}.*.>`,
      `${api}.CONSUMER.INFO.${stream}.*`,
      `${api}.CONSUMER.MSG.NEXT.${stream}.*`,
    );
  }
  for (const { stream, name } of use.durables) {
    publish.push(...durableSubjects(streamOf(namespace, stream), durableName(namespace, name)));
    publish.push(deadLetterSubject(namespace, name));
  }
  for (const schema of use.perProcessDurables) {
    const stream = streamOf(namespace, schema);
    publish.push(`${api}.CONSUMER.DELETE.${stream}.*`, `$JS.ACK.${stream}.>`);
  }
  if (use.perProcessDurables.length > 0) publish.push(deadLetterSubject(namespace, ">"));
  // The fixed durables of the other services, on the streams this one may name consumers on: never to be read,
  // acked, reconfigured or deleted by it.
  for (const other of natsServiceNames.filter((name) => name !== service)) {
    for (const { stream, name } of uses[other].durables) {
      const streamName = streamOf(namespace, stream);
      if (readStreams.includes(streamName)) deny.push(...durableSubjects(streamName, durableName(namespace, name)));
    }
  }

  for (const schema of use.getsMessages) publish.push(`${api}.STREAM.MSG.GET.${streamOf(namespace, schema)}`);
  for (const name of use.kvBuckets) {
    const bucket = kvBucket(namespace, name);
    publish.push(
      `$KV.${bucket}.>`,
      `${api}.STREAM.INFO.KV_${bucket}`,
      `${api}.STREAM.CREATE.KV_${bucket}`,
      `${api}.STREAM.MSG.GET.KV_${bucket}`,
      `${api}.DIRECT.GET.KV_${bucket}`,
      `${api}.DIRECT.GET.KV_${bucket}.>`,
    );
  }

  const core = use.coreSubjects.map((subject) => namespacedSubject(namespace, subject));
  publish.push(...core);
  // Replies (JetStream API answers, pull batches, acks of publishes) come to the connection's inbox, under the
  // service's own prefix; the requests it answers come from its own replicas.
  const inboxes = `${natsInboxPrefix(service)}.>`;
  if (use.replies) publish.push(inboxes);
  return {
    publish: { allow: unique(publish), deny: unique(deny) },
    subscribe: { allow: [inboxes, ...core], deny: [] },
  };
}

/** The variable that holds a service's NATS password: SHOP_NATS_<SERVICE>_PASSWORD. */
export function natsPasswordVariable(service: NatsServiceName): string {
  return `SHOP_NATS_${service.toUpperCase()}_PASSWORD`;
}
