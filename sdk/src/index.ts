// The browser-safe entry: clients, sessions and money. Event subscriptions (NATS) are in `@shop/sdk/events`.
// Errors are connect's own, re-exported so `instanceof ConnectError` matches the copy the clients throw.
export { Code, ConnectError } from "@connectrpc/connect";
export type { CustomerSession, CustomerSessionOptions } from "./customer-session.js";
export { startCustomerSession } from "./customer-session.js";
export { carriesIdempotencyKey, isSafeToRepeat, newIdempotencyKey } from "./idempotency-keys.js";
export { currencyExponent, formatMoney, parseMoney } from "./money.js";
export type { RetryOptions } from "./retry-interceptor.js";
export type { ShopClient, ShopClientOptions, ShopProtocol, ShopServiceName } from "./shop-client.js";
export { createShopClient } from "./shop-client.js";
