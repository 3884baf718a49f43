export { currencyExponent, formatMoney, parseMoney } from "./money.js";
export type { ShopClient, ShopClientOptions } from "./shop-client.js";
export { createShopClient } from "./shop-client.js";
