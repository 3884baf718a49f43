export type { OrdersConfig } from "./config.js";
export { loadOrdersConfig } from "./config.js";
export type { Orders, OrdersOverrides } from "./orders.js";
export { createOrders } from "./orders.js";
