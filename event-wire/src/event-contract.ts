import { type DescMessage, getOption, hasOption, type Message } from "@bufbuild/protobuf";
import { event as eventOption } from "@shop/contracts/shop/events/v1/event_pb.js";

/**
 * The wire conventions of Shop's events, shared by the platform (which publishes) and the SDK (whose users
 * subscribe): where an event type is published, and how a message names its type.
 */

/** Header naming the event's protobuf type, so one subject can carry several event types. */
export const eventTypeHeader = "Shop-Event-Type";

/** Where an event type travels: its subject template and stream, from the message's `(shop.events.v1.event)` option. */
export interface EventContract {
  schema: DescMessage;
  subjectTemplate: string;
  stream: string;
}

// Options are decoded from the descriptor on every `getOption` call; descriptors never change, so each is read once.
const contractBySchema = new WeakMap<DescMessage, Readonly<EventContract>>();

/** The `(shop.events.v1.event)` option of an event message; throws for messages that are not events. */
export function eventContract(schema: DescMessage): Readonly<EventContract> {
  let contract = contractBySchema.get(schema);
  if (contract === undefined) {
    if (!hasOption(schema, eventOption)) throw new Error(`${schema.typeName} is not an event: it has no event option`);
    const { subject, stream } = getOption(schema, eventOption);
    contract = Object.freeze({ schema, subjectTemplate: subject, stream });
    contractBySchema.set(schema, contract);
  }
  return contract;
}

/**
 * A namespace (SHOP_NAMESPACE) prefixes every stream, subject and consumer so test runs and deployments share one
 * NATS without seeing each other. Empty namespace → the names of the contract as they are.
 */
export function namespacedStream(namespace: string, stream: string): string {
  return namespace ? `${namespace}_${stream}` : stream;
}

/** A contract subject inside a namespace: `<namespace>.<subject>`. */
export function namespacedSubject(namespace: string, subject: string): string {
  return namespace ? `${namespace}.${subject}` : subject;
}

function fieldValue(message: Message, path: string): unknown {
  let value: unknown = message;
  for (const part of path.split(".")) {
    const camel = part.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    value = (value as Record<string, unknown> | undefined)?.[camel];
  }
  return value;
}

/** Tokens must not contain the NATS separators or wildcards; ids in the contract never do, this guards anyway. */
function subjectToken(value: unknown, placeholder: string, typeName: string): string {
  const token = String(value ?? "");
  if (token === "" || /[\s.*>]/.test(token)) {
    throw new Error(`${typeName}: {${placeholder}} = "${token}" cannot be a subject token`);
  }
  return token;
}

/** The subject an event is published on: its contract template with `{field.path}` filled from the event. */
export function eventSubject(schema: DescMessage, event: Message, namespace = ""): string {
  const { subjectTemplate } = eventContract(schema);
  const subject = subjectTemplate.replace(/\{([a-z0-9_.]+)\}/g, (_, path: string) =>
    subjectToken(fieldValue(event, path), path, schema.typeName),
  );
  return namespacedSubject(namespace, subject);
}

/** The wildcard that matches every subject of an event type, e.g. `shop.products.product.*`. */
export function eventSubjectFilter(schema: DescMessage, namespace = ""): string {
  return namespacedSubject(namespace, eventContract(schema).subjectTemplate.replace(/\{[a-z0-9_.]+\}/g, "*"));
}
