// What only bench/ and test/ may use of the inventory service (`@shop/inventory/internal`); other packages use index.ts.
export type { Clock, ManualClock } from "./domain/clock.js";
export { createManualClock } from "./domain/clock.js";
export type { HeldLine } from "./domain/reservation-lines.js";
export { normalizeLines } from "./domain/reservation-lines.js";
export type { ExpirySweeper } from "./expiry-sweeper.js";
export type { InventoryKeys } from "./store/inventory-keys.js";
export { inventoryKeys } from "./store/inventory-keys.js";
export { scriptSources } from "./store/inventory-scripts.js";
export type { LedgerMark, LedgerProgress } from "./store/ledger-progress.js";
export { createLedgerProgress } from "./store/ledger-progress.js";
export type { OutboxEntry } from "./store/redis-outbox-source.js";
export { createRedisOutboxSource } from "./store/redis-outbox-source.js";
export type { StockStore } from "./store/stock-store.js";
export { reserveInvocation } from "./store/stock-store.js";
