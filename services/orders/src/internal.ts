// What only bench/ and test/ may use of the orders service (`@shop/orders/internal`); other packages use index.ts.
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
