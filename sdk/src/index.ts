export type { EventContract } from "./event-contract.js";
export {
  eventContract,
  eventSubject,
  eventSubjectFilter,
  eventTypeHeader,
  namespacedStream,
  namespacedSubject,
} from "./event-contract.js";
export type { EventSubscription, ReceivedEvent, SubscribeOptions } from "./event-subscription.js";
export { isEvent, subscribeToEvents } from "./event-subscription.js";
export { currencyExponent, formatMoney, parseMoney } from "./money.js";
export type { ShopClient, ShopClientOptions } from "./shop-client.js";
export { createShopClient } from "./shop-client.js";
