// Event subscriptions for integrators, apart from the main entry so a storefront bundle never pulls in NATS.
export type { EventContract } from "@shop/event-wire";
export {
  eventContract,
  eventSubject,
  eventSubjectFilter,
  eventTypeHeader,
  namespacedStream,
  namespacedSubject,
} from "@shop/event-wire";
export type { EventSubscription, ReceivedEvent, SubscribeOptions } from "./event-subscription.js";
export { isEvent, subscribeToEvents } from "./event-subscription.js";
