// Subscribers name streams and subjects by the same wire conventions the platform publishes with.
export type { EventContract } from "@shop/event-wire";
export {
  eventContract,
  eventSubject,
  eventSubjectFilter,
  eventTypeHeader,
  namespacedStream,
  namespacedSubject,
} from "@shop/event-wire";
export type { CustomerSession } from "./customer-session.js";
export { startCustomerSession } from "./customer-session.js";
export type { EventSubscription, ReceivedEvent, SubscribeOptions } from "./event-subscription.js";
export { isEvent, subscribeToEvents } from "./event-subscription.js";
export { currencyExponent, formatMoney, parseMoney } from "./money.js";
export type { ShopClient, ShopClientOptions } from "./shop-client.js";
export { createShopClient } from "./shop-client.js";
