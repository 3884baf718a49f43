// What only bench/ and test/ may use of the orders service (`@shop/orders/internal`); other packages use index.ts.
export type { CatalogEntry, CatalogPrices } from "./domain/catalog-prices.js";
export { isOrderAccessToken, orderAccessToken } from "./domain/order-access.js";
export { orderIdFor, reservationIdOf } from "./domain/order-ids.js";
export type { OrderEvent } from "./domain/order-state.js";
export { applyOrderEvent } from "./domain/order-state.js";
export type { PaymentOutcome, Payments } from "./stripe-payments.js";
