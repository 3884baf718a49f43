// What only bench/ and test/ may use of the orders service (`@shop/orders/internal`); other packages use index.ts.

// The orders suite's stack (this service with a real inventory and the Stripe emulator, in-process), so bench/ and
// test/e2e start checkouts the same way the suite does instead of reaching into services/orders/test by path.
export type { CheckoutHarness, CheckoutHarnessOptions, PaymentStats } from "../test/support/checkout-harness.js";
export { checkoutRequest, startCheckoutHarness } from "../test/support/checkout-harness.js";
export type { CatalogEntry, CatalogPrices } from "./domain/catalog-prices.js";
export { isOrderAccessToken, orderAccessToken } from "./domain/order-access.js";
export type { OrderEmail, OrderEmailFacts, OrderEmailKind } from "./domain/order-email.js";
export { composeOrderEmail, formatMoney } from "./domain/order-email.js";
export { orderIdFor, reservationIdOf } from "./domain/order-ids.js";
export type { OrderEvent } from "./domain/order-state.js";
export { applyOrderEvent } from "./domain/order-state.js";
export type { OrderNotificationsOptions } from "./order-notifications.js";
export { notificationsConsumerName, startOrderNotifications } from "./order-notifications.js";
export type { MailOutbox, OutgoingMail, SendOutcome } from "./store/mail-outbox.js";
export { createClaimedMailOutbox, createFileMailOutbox, mailFileStem, sentMailBucket } from "./store/mail-outbox.js";
export type { PaymentOutcome, Payments } from "./stripe-payments.js";
